import type { Knex } from 'knex';

// Replay protection for authenticator codes: a TOTP code is accepted once. The time step (Unix
// seconds / 30) of the last code an agent used is kept, and a code from that step or an earlier one
// is refused.
export async function up(knex: Knex): Promise<void> {
  if (await knex.schema.hasColumn('agents', 'totp_last_step')) return;
  await knex.schema.alterTable('agents', (t) => {
    t.bigInteger('totp_last_step'); // time step of the last accepted TOTP code; null = none yet
  });
}

export async function down(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasColumn('agents', 'totp_last_step'))) return;
  await knex.schema.alterTable('agents', (t) => {
    t.dropColumn('totp_last_step');
  });
}
