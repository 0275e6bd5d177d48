/** Choices for the agent's "new ticket on behalf of a user" form. */
import type { ServiceContext } from '../context.ts';
import { assertStaff } from './ticket-agent-common.ts';
import { newTicketFormFields, ticketFieldDefs } from '../fields/ticket-field-values.ts';
import { getSettings } from '../settings/settings-service.ts';
import { permissionsIn } from './ticket-policy.ts';
import { SOURCE_LABELS, SOURCES } from './ticket-status.ts';

type Opt = { value: string | number; label: string; group?: string };

/** The group administrators are listed under: they may be assigned a ticket of any department. */
const ADMINS = 'Administrators (any department)';

/** Departments the agent may open tickets in (theirs whose role allows ticket.create; admins: all), topics, priorities, SLA plans, agents, sources, and defaults. */
export async function getNewTicketForm(ctx: ServiceContext) {
  assertStaff(ctx.actor);
  const db = ctx.db;
  const active = (table: string, order: string[] = ['name']) => db(table).where('is_active', true).orderBy(order).select('id', 'name');
  const [departments, topics, priorities, slaPlans, agents] = await Promise.all([
    // Priorities most urgent first, as on the ticket page and in the admin area.
    active('departments'), active('help_topics'), active('priorities', ['urgency', 'name']), active('sla_plans'),
    db('agents as a').join('departments as d', 'd.id', 'a.department_id').where('a.is_active', true).select('a.id', 'a.name', 'a.role', 'd.name as department'),
  ]);
  // Agents under their (primary) department, administrators last: the list says who works where
  // before the form is sent (an agent of another department is refused: checkAssignee).
  const groupOf = (a: { role: string; department: string }) => (a.role === 'admin' ? ADMINS : a.department);
  const agentOptions: Opt[] = agents
    .map((a: { id: number; name: string; role: string; department: string }) => ({ value: a.id, label: a.name, group: groupOf(a) }))
    .sort((x: Opt, y: Opt) => Number(x.group === ADMINS) - Number(y.group === ADMINS) || x.group!.localeCompare(y.group!) || x.label.localeCompare(y.label));
  const actor = ctx.actor;
  const limited = actor.kind === 'agent' && actor.role !== 'admin';
  // Their departments where their role allows opening tickets (no statement: the roles are cached).
  const settings = await getSettings(db);
  const allowed = new Set<number>();
  for (const d of departments as { id: number }[]) if (!limited || (actor.departmentIds.includes(d.id) && (await permissionsIn(db, actor, d.id, settings)).has('ticket.create'))) allowed.add(d.id);
  const opt = (rows: { id: number; name: string }[], none?: string): Opt[] => [...(none ? [{ value: '', label: none }] : []), ...rows.map((r) => ({ value: r.id, label: r.name }))];
  return {
    options: {
      departments: opt(departments.filter((d: any) => allowed.has(d.id)), '— from the help topic —'),
      topics: opt(topics, '— none —'),
      priorities: opt(priorities, '— from the help topic —'),
      slaPlans: opt(slaPlans, '— from the topic or department —'),
      agents: [{ value: '', label: '— unassigned —' }, ...agentOptions],
      // 'api' is the API's own channel, not something an agent records.
      sources: SOURCES.filter((s) => s !== 'api').map((s) => ({ value: s, label: SOURCE_LABELS[s] })),
    },
    /** Custom fields of every topic (each says which topics it is for): the chosen topic's count. */
    fields: newTicketFormFields(await ticketFieldDefs(db, settings), 'agent', topics),
    defaults: {
      source: 'phone',
      notifyUser: 'on',
      // No department chosen: the help topic routes the ticket (as the portal, the API and osTicket
      // do); the agent overrides it by choosing one. (The agent's own department preselected here
      // used to override every topic unnoticed.)
    } as Record<string, unknown>,
  };
}
