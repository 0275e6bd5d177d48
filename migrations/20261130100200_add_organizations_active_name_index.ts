import type { Knex } from 'knex';
import { hasIndex } from './support/table-options.ts';

// The queue's organization filter lists the first active organizations by name with every queue page
// (src/domain/tickets/ticket-queue-refinements.ts organizationParts): read as this index's range, not a
// scan of the organizations and a sort (MariaDB sorted all of them: 5,000 rows for 101).
const NAME = 'organizations_active_name';

export async function up(knex: Knex): Promise<void> {
  if (await hasIndex(knex, 'organizations', NAME)) return;
  await knex.schema.alterTable('organizations', (t) => t.index(['is_active', 'name'], NAME));
}

export async function down(knex: Knex): Promise<void> {
  if (!(await hasIndex(knex, 'organizations', NAME))) return;
  await knex.schema.alterTable('organizations', (t) => t.dropIndex(['is_active', 'name'], NAME));
}
