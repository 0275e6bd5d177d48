/**
 * Where a new ticket goes: help topic, department, priority, SLA plan and its due date. Everything
 * is read in one statement (topic → department → explicit priority → SLA plan → schedule, left joins
 * on one row, with the department's agents as a JSON column when alerts will go out); the checks
 * then run on that row in the order the form's fields are listed.
 */
import type { Knex } from 'knex';
import { dbBool, fromOneRow } from '../../db/dialect.ts';
import { isAgent, type Actor } from '../actor.ts';
import { Forbidden, ValidationFailed } from '../errors.ts';
import { senderFrom, withSender, type Sender } from '../users/user-service.ts';
import type { Settings } from '../settings/settings-service.ts';
import { departmentAgentsColumn, recipientsFrom, type Recipient } from '../mail/ticket-notifications.ts';
import { dueDatesFromPlan, joinSlaPlan, SLA_PLAN_COLUMNS } from '../sla/sla-service.ts';

type Db = Knex | Knex.Transaction;

export interface Routing {
  topicId: number | null;
  departmentId: number;
  priorityId: number;
  slaPlanId: number | null;
  /** When the SLA plan makes the ticket due (null: no plan, or a schedule without working time). */
  dueAt: Date | null;
  /** When the plan's first-response target falls (null: none). */
  firstResponseDueAt: Date | null;
  /** What mail about the ticket shows and sends from; `agents` (alert recipients) only when asked for. */
  department: { name: string; emailAddress: string | null; emailName: string | null; agents?: Recipient[] };
}

/** What the opener asked for; department, priority and SLA count only from agents, the API and the system. */
export interface RoutingRequest {
  topicId?: number;
  departmentId?: number;
  priorityId?: number;
  slaPlanId?: number;
  /** Read the department's active agents too (new-ticket alerts will go out). */
  withAgents?: boolean;
  /** What the ticket filters chose (active entries only): under an explicit choice, over the user's help topic. */
  filtered?: { departmentId?: number; topicId?: number; priorityId?: number; slaPlanId?: number };
}

/** The topic, department (and its agents), explicitly chosen priority, SLA plan and applicable schedule (and the sender), as one row. */
function readRouting(db: Db, req: RoutingRequest, settings: Settings, senderEmail: string) {
  const q = withSender(db, fromOneRow(db), senderEmail)
    .leftJoin('help_topics as ht', 'ht.id', db.raw('?', [req.topicId ?? null]))
    // A topic routes only to an active department: a disabled one receives no new tickets, and the
    // topic's go to the default department (which cannot be disabled) until it is enabled again.
    .leftJoin('departments as td', (j) => void j.on('td.id', 'ht.department_id').andOnVal('td.is_active', true))
    .leftJoin('departments as d', 'd.id', db.raw('coalesce(?, ??, ?)', [req.departmentId ?? null, 'td.id', settings.default_department_id]))
    .leftJoin('priorities as xp', 'xp.id', db.raw('?', [req.priorityId ?? null]));
  // The same precedence as `slaPlanId` in resolveRouting: explicit → topic → department → default.
  const planId = db.raw('coalesce(?, ??, ??, ?)', [req.slaPlanId ?? null, 'ht.sla_plan_id', 'd.sla_plan_id', settings.default_sla_plan_id]);
  return joinSlaPlan(db, q, planId, db.ref('d.schedule_id'), settings.default_schedule_id).first(
    'ht.id as topic_id', 'ht.is_active as topic_active', 'ht.is_public as topic_public', 'ht.priority_id as topic_priority_id', 'ht.sla_plan_id as topic_sla_plan_id',
    'd.id as department_id', 'd.is_active as department_active', 'd.sla_plan_id as department_sla_plan_id',
    'd.name as department_name', 'd.email_address as department_email', 'd.email_name as department_email_name',
    'xp.is_active as priority_active', 'p.is_active as sla_plan_active', ...SLA_PLAN_COLUMNS,
    ...(req.withAgents ? [departmentAgentsColumn(db, db.ref('d.id'))] : []),
  );
}

const chooseFromList = (field: string) => new ValidationFailed({ [field]: 'Choose a value from the list' });

/**
 * Picks department, priority and SLA: explicit (agents/API/system) → ticket filters → help topic (its
 * department when active) → department → settings.
 * Users (portal) choose only an active public topic; an explicit choice must be active. The sender
 * check of `senderEmail` (ban, and the user of that address) is read in the same statement (see
 * withSender); a banned sender is refused before any routing check.
 * @throws Forbidden (USER_BANNED), ValidationFailed
 */
export async function resolveRouting(db: Db, actor: Actor, input: RoutingRequest, settings: Settings, now: Date, senderEmail: string): Promise<Routing & { sender: Sender }> {
  const privileged = isAgent(actor) || actor.kind === 'api' || actor.kind === 'system';
  const f = input.filtered ?? {};
  const req: RoutingRequest = privileged
    ? { ...input, departmentId: input.departmentId ?? f.departmentId, topicId: input.topicId ?? f.topicId, priorityId: input.priorityId ?? f.priorityId, slaPlanId: input.slaPlanId ?? f.slaPlanId }
    : { topicId: f.topicId ?? input.topicId, departmentId: f.departmentId, priorityId: f.priorityId, slaPlanId: f.slaPlanId, withAgents: input.withAgents };
  const row = await readRouting(db, req, settings, senderEmail);
  const sender = senderFrom(row);
  if (sender.banned) throw new Forbidden('Tickets from this address are not accepted.', 'USER_BANNED');
  // A user's own topic must be public; one a filter chose need not be.
  if (req.topicId && (!row.topic_id || !dbBool(row.topic_active) || (!privileged && !f.topicId && !dbBool(row.topic_public)))) throw new ValidationFailed({ topicId: 'Choose a help topic from the list' });
  if (req.departmentId && (!row.department_id || !dbBool(row.department_active))) throw chooseFromList('departmentId');
  if (!row.department_id) throw new ValidationFailed({ departmentId: 'No department is configured; ask an administrator' });
  if (req.priorityId && !dbBool(row.priority_active)) throw chooseFromList('priorityId');
  const priorityId = req.priorityId ?? row.topic_priority_id ?? settings.default_priority_id;
  if (!priorityId) throw new ValidationFailed({ priorityId: 'No priority is configured; ask an administrator' });
  if (req.slaPlanId && !dbBool(row.sla_plan_active)) throw chooseFromList('slaPlanId');
  return {
    sender,
    topicId: row.topic_id ?? null,
    departmentId: row.department_id,
    priorityId,
    slaPlanId: req.slaPlanId ?? row.topic_sla_plan_id ?? row.department_sla_plan_id ?? settings.default_sla_plan_id ?? null,
    ...(await dueDatesFromPlan(db, row, now)),
    department: {
      name: row.department_name, emailAddress: row.department_email ?? null, emailName: row.department_email_name ?? null,
      ...(req.withAgents ? { agents: recipientsFrom(row.department_agents) } : {}),
    },
  };
}
