import type { Knex } from 'knex';

// "Waiting on the requester" (status 'pending', still in the open state): the SLA clock stops while an
// agent waits for the requester's answer and runs on when they answer (osTicket has no such pause;
// its users have asked for one since 2016). See src/domain/sla/CONTEXT.md.
// - waiting_since: when the ticket last started waiting (null when it is not waiting); the auto-close
//   sweep reads it through tickets_waiting (status, waiting_since).
// - sla_paused_at: when the SLA clock stopped (null when it runs); a ticket that waits after its SLA due
//   date has passed does not stop it.
// - sla_paused_seconds: working seconds spent waiting since the SLA clock last started; the SLA due date
//   is the plan's grace period plus these after sla_started_at.
export async function up(knex: Knex): Promise<void> {
  if (await knex.schema.hasColumn('tickets', 'waiting_since')) return;
  await knex.schema.alterTable('tickets', (t) => {
    t.datetime('waiting_since', { precision: 3 });
    t.datetime('sla_paused_at', { precision: 3 });
    t.integer('sla_paused_seconds').notNullable().defaultTo(0);
    t.index(['status', 'waiting_since'], 'tickets_waiting');
  });
}

export async function down(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasColumn('tickets', 'waiting_since'))) return;
  await knex.schema.alterTable('tickets', (t) => {
    t.dropIndex(['status', 'waiting_since'], 'tickets_waiting');
    t.dropColumn('waiting_since');
    t.dropColumn('sla_paused_at');
    t.dropColumn('sla_paused_seconds');
  });
}
