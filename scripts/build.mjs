/**
 * `npm run build` (run by `npm start` before it starts): compiles the server and the migrations to
 * plain JavaScript in dist/ with esbuild, so the running help desk is plain `node` with no TypeScript
 * loader in the process (~75 MB less memory under load; docs/benchmarks.md). Dependencies stay in
 * node_modules (not bundled). Tests, the CLI and `npm run dev` run the TypeScript sources with tsx.
 */
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');
const dist = path.join(root, 'dist');
const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', sourcemap: true, logLevel: 'warning' };

fs.rmSync(dist, { recursive: true, force: true });
await build({ ...common, entryPoints: [path.join(root, 'src/server.ts')], outfile: path.join(dist, 'server.js') });
// Each migration on its own (knex loads them by file name, in order; names are the same as the .ts files').
const migrations = fs.readdirSync(path.join(root, 'migrations')).filter((f) => /^\d+_.*\.ts$/.test(f));
await build({ ...common, entryPoints: migrations.map((f) => path.join(root, 'migrations', f)), outdir: path.join(dist, 'migrations') });
