/**
 * Where the project's files are, whether this code runs from the TypeScript sources (tsx: tests,
 * CLI, `npm run dev`) or from the compiled bundle dist/server.js (`npm start`, scripts/build.mjs).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(from: string): string {
  let dir = from;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${from}`);
    dir = up;
  }
  return dir;
}

/** The folder holding package.json, views/, public/ and migrations/. */
export const projectRoot = findRoot(path.dirname(fileURLToPath(import.meta.url)));

/** True in the compiled bundle: migrations are then the .js files of dist/migrations. */
export const runningCompiled = import.meta.url.endsWith('.js');
