import type { Knex } from 'knex';
import { createTable } from './support/table-options.ts';

export async function up(knex: Knex): Promise<void> {
  // express-session store; no state in process memory.
  await createTable(knex, 'sessions', (t) => {
    t.string('sid', 128).primary();
    t.text('sess').notNullable(); // JSON text
    t.datetime('expires_at', { precision: 3 }).notNullable();
    t.integer('agent_id').unsigned(); // lets logout / password change end an account's other sessions
    t.integer('user_id').unsigned();
    t.index(['expires_at']);
    t.index(['agent_id']);
    t.index(['user_id']);
  });
  // Tokens that grant access (portal access links, password resets): stored hashed.
  await createTable(knex, 'access_tokens', (t) => {
    t.increments('id');
    t.string('kind', 24).notNullable(); // 'portal_access' | 'password_reset'
    t.string('token_hash', 64).notNullable().unique(); // sha256 hex of the random token
    t.integer('user_id').unsigned().references('id').inTable('users').onDelete('CASCADE');
    t.integer('agent_id').unsigned().references('id').inTable('agents').onDelete('CASCADE');
    t.integer('ticket_id').unsigned().references('id').inTable('tickets').onDelete('CASCADE');
    t.datetime('expires_at', { precision: 3 }).notNullable();
    t.datetime('used_at', { precision: 3 });
    t.datetime('created_at', { precision: 3 }).notNullable();
  });
  await createTable(knex, 'api_keys', (t) => {
    t.increments('id');
    t.string('key_hash', 64).notNullable().unique(); // sha256 hex; the key is shown once
    t.string('key_prefix', 12).notNullable(); // first characters, to recognise a key in lists
    t.string('note', 255);
    t.string('allowed_ip', 64).notNullable(); // an address or a CIDR range
    t.boolean('can_create_tickets').notNullable().defaultTo(true);
    t.boolean('can_manage_tickets').notNullable().defaultTo(false);
    t.boolean('is_active').notNullable().defaultTo(true);
    t.datetime('last_used_at', { precision: 3 });
    t.integer('created_by_agent_id').unsigned().references('id').inTable('agents').onDelete('SET NULL');
    t.datetime('created_at', { precision: 3 }).notNullable();
  });
  // Fixed-window counters shared by all processes (login, reset, ticket creation, inbound mail).
  await createTable(knex, 'rate_limits', (t) => {
    t.string('key', 191).primary();
    t.integer('hits').notNullable();
    t.datetime('reset_at', { precision: 3 }).notNullable();
  });
  // Admin changes and sign-in events: who, what, when, before/after.
  await createTable(knex, 'audit_log', (t) => {
    t.increments('id');
    t.string('actor_kind', 8).notNullable(); // 'agent' | 'user' | 'system' | 'api'
    t.integer('agent_id').unsigned().references('id').inTable('agents').onDelete('SET NULL');
    t.string('action', 64).notNullable(); // e.g. 'department.update', 'login.failed'
    t.string('entity', 32);
    t.integer('entity_id');
    t.text('before'); // JSON text
    t.text('after'); // JSON text
    t.string('ip', 45);
    t.datetime('created_at', { precision: 3 }).notNullable();
    t.index(['created_at']);
    t.index(['entity', 'entity_id']);
  });
  // Background jobs (DB-backed queue), claimed atomically so two processes never run one twice.
  await createTable(knex, 'jobs', (t) => {
    t.increments('id');
    t.string('name', 64).notNullable();
    t.text('payload').notNullable(); // JSON text of ids
    t.datetime('run_at', { precision: 3 }).notNullable();
    t.integer('attempts').notNullable().defaultTo(0);
    t.datetime('locked_at', { precision: 3 });
    t.string('locked_by', 64);
    t.text('last_error');
    t.datetime('created_at', { precision: 3 }).notNullable();
    t.index(['run_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const t of ['jobs', 'audit_log', 'rate_limits', 'api_keys', 'access_tokens', 'sessions'])
    await knex.schema.dropTableIfExists(t);
}
