/**
 * Canned responses: reply texts kept by admins for the questions agents answer every day (osTicket's
 * "Canned Responses", Zendesk's macros for text). Each is for every department or for one; an agent
 * inserts one into a reply on the ticket page, with the ticket's values filled in (fillCannedResponse).
 */
import { z } from 'zod';
import { dbBool, toDbDate } from '../../db/dialect.ts';
import { recordAudit } from '../audit/audit-service.ts';
import { inTransaction, type ServiceContext } from '../context.ts';
import { NotFound } from '../errors.ts';
import { getSettings } from '../settings/settings-service.ts';
import { optionalId, requiredText } from '../validation.ts';
import {
  assertAdmin, assertRefs, assertUnique, changes, deleteCatalogRow, loadRow, nameTaken, setCatalogActive, validateForm, writeOrConflict, type CatalogSpec, type FormInput,
} from '../admin/admin-support.ts';
import { assertStaff } from '../tickets/ticket-agent-common.ts';
import { loadTicketFor } from '../tickets/ticket-policy.ts';

export interface CannedResponse {
  id: number;
  title: string;
  body: string;
  /** null: for every department. */
  departmentId: number | null;
  isActive: boolean;
}

const toCanned = (r: any): CannedResponse => ({ id: r.id, title: r.title, body: r.body, departmentId: r.department_id ?? null, isActive: dbBool(r.is_active) });

export const cannedSpec: CatalogSpec<CannedResponse> = { table: 'canned_responses', entity: 'canned_response', label: 'canned response', usedBy: [], toDomain: toCanned };

export const CannedResponseInput = z.object({
  title: requiredText(120, 'Title'),
  body: requiredText(20_000, 'Text'),
  departmentId: optionalId,
});
export type CannedResponseInput = FormInput<typeof CannedResponseInput>;
type Parsed = z.output<typeof CannedResponseInput>;

const toRow = (input: Parsed) => ({ title: input.title, body: input.body, department_id: input.departmentId ?? null });

/** Parses the form and checks the title and department, reporting every problem at once. @throws ValidationFailed, Conflict NAME_TAKEN */
function validate(ctx: ServiceContext, raw: CannedResponseInput, exceptId?: number): Promise<Parsed> {
  return validateForm(CannedResponseInput, raw, (v) => [
    () => assertUnique(ctx.db, cannedSpec, 'title', v.title, exceptId, 'title'),
    () => assertRefs(ctx.db, [['departmentId', 'departments', v.departmentId]]),
  ]);
}

/** Every canned response by title, with its department's name. @throws Forbidden */
export async function listCannedResponses(ctx: ServiceContext): Promise<(CannedResponse & { departmentName: string | null })[]> {
  assertAdmin(ctx);
  const rows = await ctx.db('canned_responses as c').leftJoin('departments as d', 'd.id', 'c.department_id').orderBy('c.title').select('c.*', 'd.name as department_name');
  return rows.map((r: any) => ({ ...toCanned(r), departmentName: r.department_name ?? null }));
}

/** @throws Forbidden, NotFound */
export async function getCannedResponse(ctx: ServiceContext, cannedId: number): Promise<CannedResponse> {
  assertAdmin(ctx);
  return toCanned(await loadRow(ctx.db, cannedSpec, cannedId));
}

/** @throws Forbidden, ValidationFailed, Conflict NAME_TAKEN */
export async function createCannedResponse(ctx: ServiceContext, raw: CannedResponseInput): Promise<CannedResponse> {
  assertAdmin(ctx);
  const input = await validate(ctx, raw);
  return writeOrConflict(() => inTransaction(ctx, async (trx) => {
    await assertUnique(trx, cannedSpec, 'title', input.title, undefined, 'title');
    const now = toDbDate(ctx.clock());
    const [cannedId] = await trx('canned_responses').insert({ ...toRow(input), is_active: true, created_at: now, updated_at: now });
    const canned = toCanned({ ...toRow(input), id: cannedId, is_active: true });
    await recordAudit(ctx, trx, { action: 'canned_response.create', entity: 'canned_response', entityId: cannedId, after: canned });
    return canned;
  }), () => nameTaken('canned response', 'title', 'title'));
}

/** @throws Forbidden, NotFound, ValidationFailed, Conflict NAME_TAKEN */
export async function updateCannedResponse(ctx: ServiceContext, cannedId: number, raw: CannedResponseInput): Promise<void> {
  assertAdmin(ctx);
  const input = await validate(ctx, raw, cannedId);
  await writeOrConflict(() => inTransaction(ctx, async (trx) => {
    await assertUnique(trx, cannedSpec, 'title', input.title, cannedId, 'title');
    const before = toCanned(await loadRow(trx, cannedSpec, cannedId));
    await trx('canned_responses').where({ id: cannedId }).update({ ...toRow(input), updated_at: toDbDate(ctx.clock()) });
    await recordAudit(ctx, trx, { action: 'canned_response.update', entity: 'canned_response', entityId: cannedId, ...changes({ ...before }, { ...before, title: input.title, body: input.body, departmentId: input.departmentId ?? null }) });
  }), () => nameTaken('canned response', 'title', 'title'));
}

/** @throws Forbidden, NotFound */
export function setCannedResponseActive(ctx: ServiceContext, cannedId: number, active: boolean): Promise<void> {
  return setCatalogActive(ctx, cannedSpec, cannedId, active);
}

/** @throws Forbidden, NotFound */
export function deleteCannedResponse(ctx: ServiceContext, cannedId: number): Promise<void> {
  return deleteCatalogRow(ctx, cannedSpec, cannedId);
}

/** The values a canned response may name, as %{name}. */
export const CANNED_VARIABLES = ['ticket.number', 'ticket.subject', 'user.name', 'user.email', 'agent.name', 'helpdesk.name'] as const;

/** Fills %{…} with `values`; an unknown name is left as it is (the agent sees it before sending). */
export function fillVariables(body: string, values: Record<string, string>): string {
  return body.replace(/%\{([a-z]+\.[a-z_]+)\}/g, (whole, name: string) => (Object.hasOwn(values, name) ? values[name] : whole));
}

/**
 * An active canned response the ticket's department may use, filled in for that ticket (the actor
 * must see the ticket). @throws Forbidden, NotFound (TICKET_NOT_FOUND, CANNED_NOT_FOUND)
 */
export async function fillCannedResponse(ctx: ServiceContext, ticketId: number, cannedId: number): Promise<string> {
  assertStaff(ctx.actor);
  const t = await loadTicketFor(ctx.db, ctx.actor, { id: ticketId });
  const row = Number.isInteger(cannedId) && cannedId > 0
    ? await ctx.db('canned_responses').where({ id: cannedId, is_active: true }).andWhere((w) => w.whereNull('department_id').orWhere('department_id', t.department_id)).first()
    : undefined;
  if (!row) throw new NotFound('Canned response not found.', 'CANNED_NOT_FOUND');
  const user = await ctx.db('users').where({ id: t.user_id }).first('name', 'email');
  const settings = await getSettings(ctx.db);
  return fillVariables(String(row.body), {
    'ticket.number': String(t.number), 'ticket.subject': String(t.subject), 'user.name': String(user?.name ?? ''), 'user.email': String(user?.email ?? ''),
    'agent.name': ctx.actor.kind === 'agent' ? ctx.actor.name : '', 'helpdesk.name': settings.helpdesk_name,
  });
}
