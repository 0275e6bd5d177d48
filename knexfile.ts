/** knex CLI configuration (npx knex --knexfile knexfile.ts …); the app itself migrates on start. */
import 'dotenv/config';
import { loadConfig } from './src/config.ts';
import { migrationSource } from './src/db/migration-source.ts';

const config = loadConfig();
const db = config.database;

export default db.client === 'sqlite'
  ? { client: 'better-sqlite3', connection: { filename: db.filename }, useNullAsDefault: true, migrations: { migrationSource } }
  : { client: 'mysql2', connection: { uri: db.url, charset: 'utf8mb4', timezone: 'Z' }, migrations: { migrationSource } };
