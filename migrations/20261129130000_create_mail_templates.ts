import type { Knex } from 'knex';
import { createTable, timestamps } from './support/table-options.ts';

// Admins' own wording of a notification (osTicket's "Email Templates"): one row per customised
// notification; a notification without a row is sent with its built-in text (views/mail/<name>.*.ejs).
// The text uses {{placeholders}} that are substituted as plain text, never evaluated (src/mail/mail-placeholders.ts).
export async function up(knex: Knex): Promise<void> {
  await createTable(knex, 'mail_templates', (t) => {
    t.increments('id');
    t.string('name', 64).notNullable().unique(); // the notification: the name of its views/mail template, e.g. ticket-autoresponse
    t.string('subject', 255).notNullable(); // one line, with placeholders
    t.text('body').notNullable(); // plain text with placeholders; the HTML part is made from it
    timestamps(t);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('mail_templates');
}
