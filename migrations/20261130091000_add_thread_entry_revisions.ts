import type { Knex } from 'knex';
import { createTable, isMysqlKnex } from './support/table-options.ts';

// Editing thread entries (osTicket's thread.edit, with its "View History"): an agent corrects their own
// reply or note, an administrator any entry — a requester's message too, to take out a password or a
// card number they sent. The text an edit replaced is kept in thread_entry_revisions unless the editor
// removes it for good (redaction). thread_entries gains when and by whom it was last edited: plain
// columns, no foreign key (adding one would copy the biggest table on MariaDB; the agent's name is in the
// entry_edited event). See src/domain/tickets/ticket-entry-edit.ts.
export async function up(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasColumn('thread_entries', 'edited_at'))) {
    await knex.schema.alterTable('thread_entries', (t) => {
      t.datetime('edited_at', { precision: 3 });
      t.integer('edited_by_agent_id').unsigned();
    });
  }
  await createTable(knex, 'thread_entry_revisions', (t) => {
    t.increments('id');
    t.integer('entry_id').unsigned().notNullable().references('id').inTable('thread_entries').onDelete('CASCADE');
    t.text('body', 'mediumtext').notNullable(); // the text as it was before the edit
    t.integer('agent_id').unsigned().references('id').inTable('agents').onDelete('SET NULL'); // who replaced it
    t.datetime('created_at', { precision: 3 }).notNullable(); // when it was replaced
    t.index(['entry_id', 'id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('thread_entry_revisions');
  if (!(await knex.schema.hasColumn('thread_entries', 'edited_at'))) return;
  for (const column of ['edited_at', 'edited_by_agent_id']) {
    if (isMysqlKnex(knex)) await knex.schema.alterTable('thread_entries', (t) => t.dropColumn(column));
    else await knex.raw('ALTER TABLE ?? DROP COLUMN ??', ['thread_entries', column]);
  }
}
