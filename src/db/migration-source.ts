/**
 * Loads migrations by listing their folder, so that the same list works under tsx (CLI, dev), vitest
 * and knexfile.ts (migrations/*.ts) and in the compiled server (dist/migrations/*.js, scripts/build.mjs).
 * Migrations are applied in file-name order; a migration's name has no extension, so both agree.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Knex } from 'knex';
import { projectRoot, runningCompiled } from '../paths.ts';

const ext = runningCompiled ? '.js' : '.ts';
export const migrationsDir = path.join(projectRoot, runningCompiled ? 'dist/migrations' : 'migrations');

export const migrationSource: Knex.MigrationSource<string> = {
  async getMigrations() {
    return fs.readdirSync(migrationsDir).filter((f) => /^\d+_/.test(f) && f.endsWith(ext) && !f.endsWith('.d.ts')).sort();
  },
  getMigrationName(name) {
    return name.slice(0, -ext.length);
  },
  async getMigration(name) {
    return import(pathToFileURL(path.join(migrationsDir, name)).href);
  },
};
