/** Admin: teams — name, lead and members (a lead is always a member). */
import { z } from 'zod';
import type { Knex } from 'knex';
import { dbBool, toDbDate } from '../../db/dialect.ts';
import { recordAudit } from '../audit/audit-service.ts';
import { inTransaction, type ServiceContext } from '../context.ts';
import { optionalId, requiredText } from '../validation.ts';
import {
  assertAdmin, assertRefs, assertUnique, changes, deleteCatalogRow, idList, loadRow, nameTaken, setCatalogActive, validateForm, writeOrConflict, type CatalogSpec, type FormInput,
} from '../admin/admin-support.ts';

export interface Team {
  id: number;
  name: string;
  leadId: number | null;
  isActive: boolean;
}
export interface TeamDetail extends Team {
  memberIds: number[];
}
export interface TeamListItem extends Team {
  leadName: string | null;
  memberCount: number;
}

const toTeam = (r: any): Team => ({ id: r.id, name: r.name, leadId: r.lead_agent_id ?? null, isActive: dbBool(r.is_active) });

export const teamSpec: CatalogSpec<Team> = {
  table: 'teams', entity: 'team', label: 'team', toDomain: toTeam,
  usedBy: [
    { table: 'tickets', column: 'team_id', label: 'ticket' },
    { table: 'ticket_filters', column: 'team_id', label: 'ticket filter' },
  ],
};

export const TeamInput = z.object({ name: requiredText(120, 'Name'), leadId: optionalId, memberIds: idList });
export type TeamInput = FormInput<typeof TeamInput>;
type Parsed = z.output<typeof TeamInput>;

/** All teams by name. @throws Forbidden */
export async function listTeams(ctx: ServiceContext): Promise<TeamListItem[]> {
  assertAdmin(ctx);
  const rows = await ctx.db('teams as t')
    .leftJoin('agents as a', 'a.id', 't.lead_agent_id')
    .select('t.*', 'a.name as lead_name')
    .select(ctx.db('teams_agents as m').count('*').whereRaw('?? = ??', ['m.team_id', 't.id']).as('member_count'))
    .orderBy('t.name');
  return rows.map((r: any) => ({ ...toTeam(r), leadName: r.lead_name ?? null, memberCount: Number(r.member_count) }));
}

/** @throws Forbidden, NotFound */
export async function getTeam(ctx: ServiceContext, teamId: number): Promise<TeamDetail> {
  assertAdmin(ctx);
  return readTeam(ctx.db, teamId);
}

async function readTeam(db: Knex | Knex.Transaction, teamId: number): Promise<TeamDetail> {
  const row = await loadRow(db, teamSpec, teamId);
  const memberIds = (await db('teams_agents').where({ team_id: teamId }).orderBy('agent_id').pluck('agent_id')).map(Number);
  return { ...toTeam(row), memberIds };
}

function normalise(input: Parsed): Parsed {
  const ids = input.leadId && !input.memberIds.includes(input.leadId) ? [...input.memberIds, input.leadId].sort((a, b) => a - b) : input.memberIds;
  return { ...input, memberIds: ids };
}

/** Parses the form and checks lead, members and name, reporting every problem at once. @throws ValidationFailed, Conflict NAME_TAKEN */
async function validate(ctx: ServiceContext, raw: TeamInput, exceptId?: number): Promise<Parsed> {
  return normalise(await validateForm(TeamInput, raw, (v) => [
    () => assertRefs(ctx.db, [['leadId', 'agents', v.leadId], ['memberIds', 'agents', v.memberIds]]),
    () => assertUnique(ctx.db, teamSpec, 'name', v.name, exceptId),
  ]));
}

async function write(trx: Knex.Transaction, teamId: number, input: Parsed) {
  await trx('teams_agents').where({ team_id: teamId }).delete();
  for (const agentId of input.memberIds) await trx('teams_agents').insert({ team_id: teamId, agent_id: agentId });
}

/** @throws Forbidden, ValidationFailed, Conflict NAME_TAKEN */
export async function createTeam(ctx: ServiceContext, raw: TeamInput): Promise<Team> {
  assertAdmin(ctx);
  const input = await validate(ctx, raw);
  return writeOrConflict(() => inTransaction(ctx, async (trx) => {
    await assertUnique(trx, teamSpec, 'name', input.name);
    const now = toDbDate(ctx.clock());
    const [teamId] = await trx('teams').insert({ name: input.name, lead_agent_id: input.leadId ?? null, is_active: true, created_at: now, updated_at: now });
    await write(trx, teamId, input);
    const team: TeamDetail = { id: teamId, name: input.name, leadId: input.leadId ?? null, isActive: true, memberIds: input.memberIds };
    await recordAudit(ctx, trx, { action: 'team.create', entity: 'team', entityId: teamId, after: team });
    return team;
  }), () => nameTaken('team'));
}

/** @throws Forbidden, NotFound, ValidationFailed, Conflict NAME_TAKEN */
export async function updateTeam(ctx: ServiceContext, teamId: number, raw: TeamInput): Promise<void> {
  assertAdmin(ctx);
  const input = await validate(ctx, raw, teamId);
  await writeOrConflict(() => inTransaction(ctx, async (trx) => {
    await assertUnique(trx, teamSpec, 'name', input.name, teamId);
    const before = await readTeam(trx, teamId);
    await trx('teams').where({ id: teamId }).update({ name: input.name, lead_agent_id: input.leadId ?? null, updated_at: toDbDate(ctx.clock()) });
    await write(trx, teamId, input);
    const after = { ...before, name: input.name, leadId: input.leadId ?? null, memberIds: input.memberIds };
    await recordAudit(ctx, trx, { action: 'team.update', entity: 'team', entityId: teamId, ...changes({ ...before }, after) });
  }), () => nameTaken('team'));
}

/** @throws Forbidden, NotFound */
export function setTeamActive(ctx: ServiceContext, teamId: number, active: boolean): Promise<void> {
  return setCatalogActive(ctx, teamSpec, teamId, active);
}

/** @throws Forbidden, NotFound, Conflict IN_USE (tickets assigned to the team) */
export function deleteTeam(ctx: ServiceContext, teamId: number): Promise<void> {
  return deleteCatalogRow(ctx, teamSpec, teamId);
}
