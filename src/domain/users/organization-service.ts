/**
 * Organizations (osTicket's, Zendesk's, Zammad's): the company a requester belongs to. Admins keep
 * them (Admin → Organizations); agents put a user in one on the user page (user-directory-service.ts).
 * An organization:
 * - claims email domains: a new address at one of them joins it when the help desk first meets it
 *   (findOrCreateUser; a known user keeps the organization an agent gave them);
 * - may copy its primary contacts, or all its members, on each new ticket of a member (`autoCc`,
 *   osTicket's "add collaborators" flags; the CCs get the replies and may answer);
 * - may let its primary contacts, or all its members, see and answer all its tickets on the portal
 *   once signed in with their email (`portalShare`, osTicket's "ticket sharing"; ticket-policy.ts);
 * - may have an account manager, given a member's new tickets that nothing else assigned.
 * A disabled organization keeps its members but claims no new ones and copies, shares or assigns nothing.
 */
import { z } from 'zod';
import type { Knex } from 'knex';
import { dbBool, toDbDate, whereStartsWith } from '../../db/dialect.ts';
import { recordAudit } from '../audit/audit-service.ts';
import { inTransaction, type ServiceContext } from '../context.ts';
import { NotFound, ValidationFailed } from '../errors.ts';
import { requireAgent } from '../actor.ts';
import { whereAgentMaySee } from '../tickets/ticket-policy.ts';
import { optionalId, optionalText, parseInput, requiredText } from '../validation.ts';
import {
  assertAdmin, assertRefs, assertUnique, changes, deleteCatalogRow, loadRow, nameTaken, paginate, setCatalogActive, validateForm, writeOrConflict,
  type CatalogSpec, type FormInput, type Page,
} from '../admin/admin-support.ts';
import { addCollaboratorsFromOrganization } from '../tickets/ticket-collaborators.ts';
import type { SenderOrganization } from './user-service.ts';

type Db = Knex | Knex.Transaction;

export const AUTO_CC = ['none', 'primary', 'all'] as const;
export const AUTO_CC_LABELS: Record<(typeof AUTO_CC)[number], string> = {
  none: 'Nobody',
  primary: 'Its primary contacts',
  all: 'All its members',
};
export const PORTAL_SHARE = ['none', 'primary', 'all'] as const;
export const PORTAL_SHARE_LABELS: Record<(typeof PORTAL_SHARE)[number], string> = {
  none: 'Each member their own tickets',
  primary: 'Its primary contacts see all its tickets',
  all: 'Every member sees all its tickets',
};
/** Most domains one organization claims. */
const MAX_DOMAINS = 20;

export interface Organization {
  id: number;
  name: string;
  domains: string[];
  notes: string | null;
  autoCc: (typeof AUTO_CC)[number];
  portalShare: (typeof PORTAL_SHARE)[number];
  managerAgentId: number | null;
  isActive: boolean;
}

const toOrganization = (r: any, domains: string[] = []): Organization => ({
  id: r.id, name: r.name, domains, notes: r.notes ?? null, autoCc: (AUTO_CC as readonly string[]).includes(r.auto_cc) ? r.auto_cc : 'none',
  portalShare: (PORTAL_SHARE as readonly string[]).includes(r.portal_share) ? r.portal_share : 'none',
  managerAgentId: r.manager_agent_id ?? null, isActive: dbBool(r.is_active),
});

export const organizationSpec: CatalogSpec<Organization> = { table: 'organizations', entity: 'organization', label: 'organization', usedBy: [], toDomain: (r) => toOrganization(r) };

/** A domain as stored: lower case, without a leading '@' or 'www.'. */
const DOMAIN = /^(?=.{1,191}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
/** Domains typed one per line (or separated by commas or spaces): each checked, duplicates dropped. */
const domainList = z.preprocess(
  (v) => (v === undefined || v === null ? '' : v),
  z.string({ error: 'Domains must be text' }).max(4000, 'Too many domains').transform((text, zctx) => {
    const out: string[] = [];
    for (const raw of text.split(/[\s,;]+/).map((d) => d.trim().toLowerCase().replace(/^@/, '')).filter(Boolean)) {
      if (!DOMAIN.test(raw)) {
        zctx.addIssue({ code: 'custom', message: `“${raw.slice(0, 60)}” is not a domain (e.g. example.com)` });
        return z.NEVER;
      }
      if (!out.includes(raw)) out.push(raw);
    }
    if (out.length > MAX_DOMAINS) {
      zctx.addIssue({ code: 'custom', message: `At most ${MAX_DOMAINS} domains` });
      return z.NEVER;
    }
    return out;
  }),
);

export const OrganizationInput = z.object({
  name: requiredText(120, 'Name'),
  domains: domainList,
  notes: optionalText(5000, 'Notes'),
  autoCc: z.enum(AUTO_CC, { error: 'Choose from the list' }).default('none'),
  portalShare: z.enum(PORTAL_SHARE, { error: 'Choose from the list' }).default('none'),
  managerAgentId: optionalId,
});
export type OrganizationInput = FormInput<typeof OrganizationInput>;
type Parsed = z.output<typeof OrganizationInput>;

/** A domain another organization claims is refused (one organization per domain). @throws ValidationFailed */
async function assertDomainsFree(db: Db, domains: string[] | undefined, exceptId?: number): Promise<void> {
  if (!domains?.length) return;
  const q = db('organization_domains as od').join('organizations as o', 'o.id', 'od.organization_id').whereIn('od.domain', domains).select('od.domain', 'o.name');
  if (exceptId) q.whereNot('od.organization_id', exceptId);
  const taken = await q.first();
  if (taken) throw new ValidationFailed({ domains: `${taken.domain} belongs to ${taken.name}` });
}

function validate(ctx: ServiceContext, raw: OrganizationInput, exceptId?: number): Promise<Parsed> {
  return validateForm(OrganizationInput, raw, (v) => [
    () => assertUnique(ctx.db, organizationSpec, 'name', v.name, exceptId),
    () => assertDomainsFree(ctx.db, v.domains, exceptId),
    () => assertRefs(ctx.db, [['managerAgentId', 'agents', v.managerAgentId]]),
  ]);
}

const toRow = (input: Parsed) => ({ name: input.name, notes: input.notes ?? null, auto_cc: input.autoCc, portal_share: input.portalShare, manager_agent_id: input.managerAgentId ?? null });

async function writeDomains(trx: Knex.Transaction, orgId: number, domains: string[]): Promise<void> {
  await trx('organization_domains').where({ organization_id: orgId }).delete();
  if (domains.length) await trx('organization_domains').insert(domains.map((domain) => ({ domain, organization_id: orgId })));
}

export interface OrganizationListItem extends Organization {
  managerName: string | null;
  memberCount: number;
}

/** Organizations by name (search: name or a domain starting with `q`), a page at a time. @throws Forbidden */
export async function listOrganizations(ctx: ServiceContext, query: { q?: string; page?: string } = {}): Promise<Page<OrganizationListItem>> {
  assertAdmin(ctx);
  const q = ctx.db('organizations as o').leftJoin('agents as a', 'a.id', 'o.manager_agent_id')
    .select('o.*', 'a.name as manager_name', ctx.db('users').count('*').where('organization_id', ctx.db.ref('o.id')).as('member_count'))
    .orderBy(['o.name', 'o.id']);
  const term = query.q?.trim().toLowerCase();
  if (term) {
    q.where((w) => void whereStartsWith(w, 'o.name', term).orWhereExists(whereStartsWith(ctx.db('organization_domains as od').whereRaw('od.organization_id = o.id'), 'od.domain', term)));
  }
  const page = await paginate(ctx.db, q, query.page, 50, (r: any) => ({ ...toOrganization(r), managerName: r.manager_name ?? null, memberCount: Number(r.member_count) }));
  const domains = await domainsOf(ctx.db, page.items.map((o) => o.id));
  for (const o of page.items) o.domains = domains.get(o.id) ?? [];
  return page;
}

async function domainsOf(db: Db, ids: number[]): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  if (!ids.length) return out;
  for (const r of await db('organization_domains').whereIn('organization_id', ids).orderBy('domain').select('organization_id', 'domain')) {
    const list = out.get(r.organization_id) ?? [];
    list.push(r.domain);
    out.set(r.organization_id, list);
  }
  return out;
}

/** @throws Forbidden, NotFound */
export async function getOrganization(ctx: ServiceContext, orgId: number): Promise<Organization & { memberCount: number }> {
  assertAdmin(ctx);
  const row = await loadRow(ctx.db, organizationSpec, orgId);
  const members = await ctx.db('users').where({ organization_id: orgId }).count<{ n: number }[]>({ n: '*' });
  return { ...toOrganization(row, (await domainsOf(ctx.db, [orgId])).get(orgId)), memberCount: Number(members[0].n) };
}

/** @throws Forbidden, ValidationFailed, Conflict NAME_TAKEN */
export async function createOrganization(ctx: ServiceContext, raw: OrganizationInput): Promise<Organization> {
  assertAdmin(ctx);
  const input = await validate(ctx, raw);
  return writeOrConflict(() => inTransaction(ctx, async (trx) => {
    await assertUnique(trx, organizationSpec, 'name', input.name);
    await assertDomainsFree(trx, input.domains);
    const now = toDbDate(ctx.clock());
    const [orgId] = await trx('organizations').insert({ ...toRow(input), is_active: true, created_at: now, updated_at: now });
    await writeDomains(trx, orgId, input.domains);
    const org = toOrganization({ ...toRow(input), id: orgId, is_active: true }, input.domains);
    await recordAudit(ctx, trx, { action: 'organization.create', entity: 'organization', entityId: orgId, after: org });
    return org;
  }), () => nameTaken('organization'));
}

/** @throws Forbidden, NotFound, ValidationFailed, Conflict NAME_TAKEN */
export async function updateOrganization(ctx: ServiceContext, orgId: number, raw: OrganizationInput): Promise<void> {
  assertAdmin(ctx);
  const input = await validate(ctx, raw, orgId);
  await writeOrConflict(() => inTransaction(ctx, async (trx) => {
    await assertUnique(trx, organizationSpec, 'name', input.name, orgId);
    await assertDomainsFree(trx, input.domains, orgId);
    const before = toOrganization(await loadRow(trx, organizationSpec, orgId), (await domainsOf(trx, [orgId])).get(orgId));
    await trx('organizations').where({ id: orgId }).update({ ...toRow(input), updated_at: toDbDate(ctx.clock()) });
    await writeDomains(trx, orgId, input.domains);
    const after = toOrganization({ ...toRow(input), id: orgId, is_active: before.isActive }, input.domains);
    await recordAudit(ctx, trx, { action: 'organization.update', entity: 'organization', entityId: orgId, ...changes({ ...before }, { ...after }) });
  }), () => nameTaken('organization'));
}

/** @throws Forbidden, NotFound */
export function setOrganizationActive(ctx: ServiceContext, orgId: number, active: boolean): Promise<void> {
  return setCatalogActive(ctx, organizationSpec, orgId, active);
}

/** Deletes an organization; its members stay, in no organization (the audit row lists how many). @throws Forbidden, NotFound */
export function deleteOrganization(ctx: ServiceContext, orgId: number): Promise<void> {
  return deleteCatalogRow(ctx, organizationSpec, orgId, async (trx) => {
    await trx('users').where({ organization_id: orgId }).update({ organization_id: null, is_primary_contact: false });
  });
}

/** Active organizations by name, for the user page's choice. */
export async function organizationChoices(db: Db): Promise<{ id: number; name: string; isActive: boolean }[]> {
  const rows = await db('organizations').orderBy(['name', 'id']).select('id', 'name', 'is_active');
  return rows.map((r: any) => ({ id: r.id, name: r.name, isActive: dbBool(r.is_active) }));
}

/**
 * The active organization an agent names in the queue's filter where there are too many to list
 * (ticket-queue-refinements.ts ORG_CHOICES_MAX): the one of that name (case ignored), else the only one
 * whose name starts with it (organizations_name_unique). @throws Forbidden, ValidationFailed (orgName)
 */
export async function organizationNamed(ctx: ServiceContext, raw: unknown): Promise<number> {
  requireAgent(ctx.actor, 'Only agents filter the queues.');
  const { orgName } = parseInput(z.object({ orgName: requiredText(120, 'Organization') }), { orgName: raw });
  const found: { id: number; name: string }[] = await whereStartsWith(ctx.db('organizations').where('is_active', true), 'name', orgName).orderBy('name').limit(6).select('id', 'name');
  const exact = found.find((o) => o.name.toLowerCase() === orgName.toLowerCase());
  if (exact || found.length === 1) return Number((exact ?? found[0]).id);
  if (!found.length) throw new ValidationFailed({ orgName: `No organization’s name starts with “${orgName}”` });
  throw new ValidationFailed({ orgName: `Several organizations start with “${orgName}” (${found.slice(0, 5).map((o) => o.name).join(', ')}${found.length > 5 ? '…' : ''}): type more of the name` });
}

/**
 * What a member's new ticket gets from their organization, in the caller's transaction (openTicket):
 * the primary contacts or all members as CCs (up to the CC limit, the requester and people who may
 * not follow a ticket left out; event `cc_added` by 'organization'). Returns how many were added.
 */
export async function copyOrganizationOnTicket(ctx: ServiceContext, trx: Knex.Transaction, org: SenderOrganization, ticket: { id: number; userId: number }): Promise<number> {
  if (org.autoCc === 'none') return 0;
  const q = trx('users').where({ organization_id: org.id, is_banned: false }).whereNot('id', ticket.userId).orderBy([{ column: 'is_primary_contact', order: 'desc' }, 'name', 'id']).limit(50).select('email', 'name');
  if (org.autoCc === 'primary') q.where('is_primary_contact', true);
  const people = (await q).map((r: any) => ({ address: String(r.email), name: String(r.name) }));
  return people.length ? addCollaboratorsFromOrganization(ctx, trx, { id: ticket.id, user_id: ticket.userId }, people) : 0;
}

export interface OrganizationTicket {
  id: number;
  number: string;
  subject: string;
  status: string;
  requesterName: string;
  department: string | null;
  updatedAt: Date;
}

export interface OrganizationPage {
  organization: Organization & { managerName: string | null; memberCount: number };
  /** Its primary contacts first, then by name: the first ORG_MEMBERS_SHOWN. */
  members: { id: number; name: string; email: string; isPrimaryContact: boolean }[];
  /** Its members' tickets the agent may see, newest activity first. */
  tickets: Page<OrganizationTicket>;
}

/** Members listed on an organization's page (the rest in the user directory). */
export const ORG_MEMBERS_SHOWN = 10;

/**
 * An organization as agents see it (every agent: the directory is theirs too): its settings, its
 * first members, and its members' tickets the agent may see, 25 a page. @throws Forbidden, NotFound
 */
export async function getOrganizationForAgent(ctx: ServiceContext, orgId: number, opts: { page?: string } = {}): Promise<OrganizationPage> {
  const actor = requireAgent(ctx.actor, 'Only agents see organizations.');
  const db = ctx.db;
  const row = await db('organizations as o').leftJoin('agents as a', 'a.id', 'o.manager_agent_id').where('o.id', orgId)
    .first('o.*', 'a.name as manager_name', db('users').count('*').where('organization_id', db.ref('o.id')).as('member_count'));
  if (!row) throw new NotFound('That organization does not exist.', 'NOT_FOUND');
  const members = await db('users').where({ organization_id: orgId }).orderBy([{ column: 'is_primary_contact', order: 'desc' }, { column: 'name' }, { column: 'id' }]).limit(ORG_MEMBERS_SHOWN).select('id', 'name', 'email', 'is_primary_contact');
  const q = whereAgentMaySee(db('tickets as t').leftJoin('departments as d', 'd.id', 't.department_id').whereIn('t.user_id', db('users').where({ organization_id: orgId }).select('id')), actor)
    .select('t.id', 't.number', 't.subject', 't.status', 't.requester_name', 't.updated_at', 'd.name as department')
    .orderBy([{ column: 't.updated_at', order: 'desc' }, { column: 't.id', order: 'desc' }]);
  const tickets = await paginate(db, q, opts.page, 25, (r: any): OrganizationTicket => ({
    id: r.id, number: r.number, subject: r.subject, status: r.status, requesterName: r.requester_name ?? '', department: r.department ?? null, updatedAt: new Date(r.updated_at),
  }));
  return {
    organization: { ...toOrganization(row, (await domainsOf(db, [orgId])).get(orgId)), managerName: row.manager_name ?? null, memberCount: Number(row.member_count) },
    members: members.map((m: any) => ({ id: m.id, name: m.name, email: m.email, isPrimaryContact: dbBool(m.is_primary_contact) })),
    tickets,
  };
}
