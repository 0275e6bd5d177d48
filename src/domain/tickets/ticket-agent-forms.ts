/** Choices for the agent's "new ticket on behalf of a user" form. */
import type { ServiceContext } from '../context.ts';
import { assertStaff } from './ticket-agent-common.ts';
import { SOURCE_LABELS, SOURCES } from './ticket-status.ts';

type Opt = { value: string | number; label: string };

/** Departments the agent may open tickets in (admins: all), topics, priorities, SLA plans, agents, sources, and defaults. */
export async function getNewTicketForm(ctx: ServiceContext) {
  assertStaff(ctx.actor);
  const db = ctx.db;
  const active = (table: string) => db(table).where('is_active', true).orderBy('name').select('id', 'name');
  const [departments, topics, priorities, slaPlans, agents] = await Promise.all([
    active('departments'), active('help_topics'), active('priorities'), active('sla_plans'), active('agents'),
  ]);
  const actor = ctx.actor;
  const limited = actor.kind === 'agent' && actor.role !== 'admin';
  const opt = (rows: { id: number; name: string }[], none?: string): Opt[] => [...(none ? [{ value: '', label: none }] : []), ...rows.map((r) => ({ value: r.id, label: r.name }))];
  return {
    options: {
      departments: opt(departments.filter((d: any) => !limited || (actor.kind === 'agent' && actor.departmentIds.includes(d.id))), '— from the help topic —'),
      topics: opt(topics, '— none —'),
      priorities: opt(priorities, '— from the help topic —'),
      slaPlans: opt(slaPlans, '— from the topic or department —'),
      agents: opt(agents, '— unassigned —'),
      // 'api' is the API's own channel, not something an agent records.
      sources: SOURCES.filter((s) => s !== 'api').map((s) => ({ value: s, label: SOURCE_LABELS[s] })),
    },
    defaults: {
      source: 'phone',
      notifyUser: 'on',
      // No department chosen: the help topic routes the ticket (as the portal, the API and osTicket
      // do); the agent overrides it by choosing one. (The agent's own department preselected here
      // used to override every topic unnoticed.)
    } as Record<string, unknown>,
  };
}
