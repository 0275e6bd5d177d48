import type { Knex } from 'knex';

// osTicket's four default roles, and a role for every agent. Existing agents keep what they could do:
// "All access" when the retired setting agents_may_delete_tickets was on (they could delete tickets),
// else "Expanded access" (everything but delete). The setting's row is left as it is (nothing reads it).
// Permission keys are frozen here (src/domain/roles/role-permissions.ts is the live catalogue).
const ALL = ['ticket.create', 'ticket.edit', 'ticket.assign', 'ticket.transfer', 'ticket.merge', 'ticket.reply', 'ticket.close', 'ticket.delete', 'task.manage'];
const ROLES: [name: string, permissions: string[], notes: string][] = [
  ['All access', ALL, 'Every ticket permission, delete included.'],
  ['Expanded access', ALL.filter((p) => p !== 'ticket.delete'), 'Every ticket permission but delete.'],
  ['Limited access', ['ticket.create', 'ticket.reply', 'ticket.close'], 'Open tickets, reply, change the status; read and add internal notes. No assign, transfer, merge, edit or delete.'],
  ['View only', [], 'Read tickets and add internal notes; nothing else.'],
];

export async function up(knex: Knex): Promise<void> {
  const now = new Date().toISOString().replace('T', ' ').replace('Z', '');
  for (const [name, permissions, notes] of ROLES) {
    if (await knex('roles').where({ name }).first('id')) continue; // idempotent
    await knex('roles').insert({ name, permissions: JSON.stringify(permissions), notes, is_active: true, created_at: now, updated_at: now });
  }
  const setting = await knex('settings').where({ key: 'agents_may_delete_tickets' }).first('value');
  const mayDelete = setting?.value === 'true';
  const role = await knex('roles').where({ name: mayDelete ? 'All access' : 'Expanded access' }).first('id');
  if (role) await knex('agents').whereNull('role_id').update({ role_id: role.id });
}

export async function down(knex: Knex): Promise<void> {
  await knex('departments_agents').update({ role_id: null });
  await knex('agents').update({ role_id: null });
  await knex('roles').whereIn('name', ROLES.map(([name]) => name)).delete();
}
