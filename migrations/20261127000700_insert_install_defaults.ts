import type { Knex } from 'knex';

// What a fresh install needs to take its first ticket (osTicket ships the same shape):
// a 24/7 schedule, a default SLA plan of 18 hours, the Support department, four priorities,
// three public help topics, and the settings that point at them. Admins change all of it.
export async function up(knex: Knex): Promise<void> {
  if ((await knex('departments').first('id')) !== undefined) return; // idempotent
  const now = new Date().toISOString().replace('T', ' ').replace('Z', '');
  const ts = { created_at: now, updated_at: now };
  const [scheduleId] = await knex('schedules').insert({ name: '24/7', kind: '24x7', timezone: 'UTC', is_active: true, ...ts });
  const [slaId] = await knex('sla_plans').insert({ name: 'Default SLA', grace_minutes: 18 * 60, schedule_id: scheduleId, is_active: true, alerts_disabled: false, ...ts });
  const [deptId] = await knex('departments').insert({ name: 'Support', sla_plan_id: slaId, is_public: true, is_active: true, ...ts });
  const prio: Record<string, number> = {};
  for (const [name, urgency, color] of [['Low', 4, '#DDFFDD'], ['Normal', 3, '#FFFFF0'], ['High', 2, '#FEE7E7'], ['Emergency', 1, '#FFC9C9']] as const) {
    const [id] = await knex('priorities').insert({ name, urgency, color, is_active: true, ...ts });
    prio[name] = id;
  }
  const [topicId] = await knex('help_topics').insert({ name: 'General Inquiry', is_public: true, is_active: true, priority_id: prio.Normal, ...ts });
  await knex('help_topics').insert({ name: 'Feedback', is_public: true, is_active: true, priority_id: prio.Low, ...ts });
  await knex('help_topics').insert({ name: 'Report a Problem', is_public: true, is_active: true, priority_id: prio.Normal, ...ts });
  const settings: Record<string, unknown> = {
    default_department_id: deptId,
    default_sla_plan_id: slaId,
    default_priority_id: prio.Normal,
    default_schedule_id: scheduleId,
    default_topic_id: topicId,
  };
  for (const [key, value] of Object.entries(settings)) {
    await knex('settings').insert({ key, value: JSON.stringify(value), updated_at: now });
  }
}

export async function down(): Promise<void> {
  // Data migration: nothing to undo structurally; the tables it filled are dropped by their own migrations.
}
