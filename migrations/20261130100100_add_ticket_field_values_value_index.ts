import type { Knex } from 'knex';
import { hasIndex, isMysqlKnex } from './support/table-options.ts';

// A queue filtered by a custom field's answer (a choice list's option, a ticked checkbox:
// src/domain/tickets/ticket-queue-refinements.ts) reads that answer's tickets from this index, one
// range per (field, value), instead of every answer to the field. NOTE(dialect): `value` is TEXT,
// which MySQL/MariaDB index only by a prefix: 120 characters, the longest option of a choice list
// (InnoDB adds the primary key, ticket_id, to every entry); SQLite indexes the whole value and is
// given ticket_id so that the range alone names the tickets.
const NAME = 'ticket_field_values_value';

export async function up(knex: Knex): Promise<void> {
  if (await hasIndex(knex, 'ticket_field_values', NAME)) return;
  if (isMysqlKnex(knex)) await knex.raw('CREATE INDEX ?? ON ?? (??, ??(120))', [NAME, 'ticket_field_values', 'field_id', 'value']);
  else await knex.schema.alterTable('ticket_field_values', (t) => t.index(['field_id', 'value', 'ticket_id'], NAME));
}

export async function down(knex: Knex): Promise<void> {
  if (!(await hasIndex(knex, 'ticket_field_values', NAME))) return;
  await knex.schema.alterTable('ticket_field_values', (t) => t.dropIndex([], NAME));
}
