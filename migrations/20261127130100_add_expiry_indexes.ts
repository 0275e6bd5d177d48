import type { Knex } from 'knex';

// The housekeeping task (src/domain/housekeeping/housekeeping-service.ts) deletes what has expired:
// access links and reset tokens (one or more per ticket, so the table grows with the tickets),
// rate-limit windows (one per address and purpose) and ticket locks. Each is found by its expiry.
const INDEXES: [string, string, string][] = [
  ['access_tokens', 'expires_at', 'access_tokens_expires_at'],
  ['rate_limits', 'reset_at', 'rate_limits_reset_at'],
  ['ticket_locks', 'expires_at', 'ticket_locks_expires_at'],
];

export async function up(knex: Knex): Promise<void> {
  for (const [table, column, name] of INDEXES) await knex.schema.alterTable(table, (t) => t.index([column], name));
}

export async function down(knex: Knex): Promise<void> {
  for (const [table, column, name] of [...INDEXES].reverse()) await knex.schema.alterTable(table, (t) => t.dropIndex([column], name));
}
