import type { Knex } from 'knex';

// Signatures, as osTicket has them: an agent's own (set on their profile, or by an admin) and a
// department's (set by an admin). The reply form offers either; the one chosen is appended to the
// reply's body when it is posted, so the thread and the mail to the user carry it
// (src/domain/tickets/ticket-signatures.ts). Plain text of at most 2,000 characters (the forms'
// limit), line breaks as \n; null = no signature.
const TABLES = ['agents', 'departments'];

export async function up(knex: Knex): Promise<void> {
  for (const table of TABLES) {
    if (await knex.schema.hasColumn(table, 'signature')) continue;
    await knex.schema.alterTable(table, (t) => {
      t.text('signature');
    });
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of TABLES) {
    if (!(await knex.schema.hasColumn(table, 'signature'))) continue;
    await knex.schema.alterTable(table, (t) => {
      t.dropColumn('signature');
    });
  }
}
