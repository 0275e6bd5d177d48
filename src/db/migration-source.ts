/**
 * Loads migrations from ../../migrations by listing the folder, so that the same list works under
 * tsx (npm start, CLI), vitest and knexfile.ts. Migrations are applied in file-name order.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Knex } from 'knex';

export const migrationsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

export const migrationSource: Knex.MigrationSource<string> = {
  async getMigrations() {
    return fs.readdirSync(migrationsDir).filter((f) => /^\d+_.*\.ts$/.test(f) && !f.endsWith('.d.ts')).sort();
  },
  getMigrationName(name) {
    return name.replace(/\.ts$/, '');
  },
  async getMigration(name) {
    return import(pathToFileURL(path.join(migrationsDir, name)).href);
  },
};
