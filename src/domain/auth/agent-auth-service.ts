/** Agent sign-in with lockout, and the one-time creation of the first administrator. */
import { z } from 'zod';
import { dbDate, toDbDate } from '../../db/dialect.ts';
import { recordAudit } from '../audit/audit-service.ts';
import { countAgents, loadAgentActor, type AgentRow } from '../agents/agent-queries.ts';
import type { AgentActor } from '../actor.ts';
import { inTransaction, type ServiceContext } from '../context.ts';
import { Conflict, Forbidden, NotFound, Unauthenticated } from '../errors.ts';
import { getSettings } from '../settings/settings-service.ts';
import { email, parseInput, password, requiredText } from '../validation.ts';
import { DUMMY_HASH, hashPassword, verifyPassword } from './passwords.ts';

export const SignInAgentInput = z.object({
  login: requiredText(191, 'Username or email'),
  password: z.string({ error: 'Enter your password' }).min(1, 'Enter your password').max(1024),
});
export type SignInAgentInput = z.input<typeof SignInAgentInput>;

/**
 * Checks an agent's username-or-email and password. After `login_max_failures` failures the account
 * is locked for `login_lockout_minutes`. Unknown accounts and wrong passwords get the same error
 * (and the same bcrypt work), so the answer reveals nothing.
 * @throws ValidationFailed, Unauthenticated (code INVALID_CREDENTIALS or ACCOUNT_LOCKED)
 */
export async function signInAgent(ctx: ServiceContext, raw: SignInAgentInput): Promise<AgentActor> {
  const input = parseInput(SignInAgentInput, raw);
  const login = input.login.toLowerCase();
  const row: AgentRow | undefined = await ctx.db('agents').where('username', input.login).orWhere('email', login).first();
  const ok = await verifyPassword(input.password, row?.password_hash ?? DUMMY_HASH);
  const now = ctx.clock();
  const settings = await getSettings(ctx.db);
  if (!row || !row.is_active) {
    await recordAudit(ctx, ctx.db, { action: 'login.failed', entity: 'agent', after: { login: input.login.slice(0, 64) } });
    throw new Unauthenticated('Invalid username or password.', 'INVALID_CREDENTIALS');
  }
  const lockedUntil = dbDate(row.locked_until);
  if (lockedUntil && lockedUntil > now) {
    await recordAudit(ctx, ctx.db, { action: 'login.locked', entity: 'agent', entityId: row.id });
    // The same answer as a wrong password would leak nothing, but a locked agent deserves to know.
    throw new Unauthenticated('Invalid username or password.', 'ACCOUNT_LOCKED');
  }
  if (!ok) {
    const failures = row.failed_logins + 1;
    const lock = failures >= settings.login_max_failures;
    await ctx.db('agents').where({ id: row.id }).update({
      failed_logins: lock ? 0 : failures,
      locked_until: lock ? toDbDate(new Date(now.getTime() + settings.login_lockout_minutes * 60_000)) : row.locked_until,
    });
    await recordAudit(ctx, ctx.db, { action: lock ? 'login.lockout' : 'login.failed', entity: 'agent', entityId: row.id });
    throw new Unauthenticated('Invalid username or password.', 'INVALID_CREDENTIALS');
  }
  await ctx.db('agents').where({ id: row.id }).update({ failed_logins: 0, locked_until: null, last_login_at: toDbDate(now) });
  const actor = await loadAgentActor(ctx.db, row.id);
  if (!actor) throw new Unauthenticated('Invalid username or password.', 'INVALID_CREDENTIALS');
  await recordAudit({ ...ctx, actor }, ctx.db, { action: 'login.success', entity: 'agent', entityId: row.id });
  return actor;
}

export const CreateFirstAdminInput = z.object({
  name: requiredText(120, 'Name'),
  email,
  username: requiredText(64, 'Username').regex(/^[A-Za-z0-9._-]+$/, 'Use letters, digits, dot, dash or underscore'),
  password,
});
export type CreateFirstAdminInput = z.input<typeof CreateFirstAdminInput>;

/** True while the help desk has no agent yet (the setup page is offered only then). */
export async function needsSetup(ctx: ServiceContext): Promise<boolean> {
  return (await countAgents(ctx.db)) === 0;
}

/**
 * Creates the first administrator, in the default department. Only while no agent exists.
 * @throws ValidationFailed, NotFound (SETUP_DONE) when an agent already exists
 */
export async function createFirstAdmin(ctx: ServiceContext, raw: CreateFirstAdminInput): Promise<AgentActor> {
  return createAdministrator(ctx, raw, { onlyFirst: true });
}

/**
 * Creates an administrator (the CLI's create-admin may add one at any time; setup only the first).
 * @throws ValidationFailed, Conflict (USERNAME_TAKEN), NotFound (SETUP_DONE) with onlyFirst
 */
export async function createAdministrator(ctx: ServiceContext, raw: CreateFirstAdminInput, opts: { onlyFirst: boolean }): Promise<AgentActor> {
  const input = parseInput(CreateFirstAdminInput, raw);
  const hash = await hashPassword(input.password);
  const id = await inTransaction(ctx, async (trx) => {
    if (opts.onlyFirst && (await countAgents(trx)) > 0) throw new NotFound('Setup has already been completed.', 'SETUP_DONE');
    const taken = await trx('agents').where('username', input.username).orWhere('email', input.email).first('id');
    if (taken) throw new Conflict('An agent with that username or email already exists.', 'AGENT_EXISTS');
    const settings = await getSettings(trx);
    const dept = settings.default_department_id ?? (await trx('departments').orderBy('id').first('id'))?.id;
    if (!dept) throw new Forbidden('No department exists; run the migrations first.', 'NO_DEPARTMENT');
    const now = toDbDate(ctx.clock());
    // An administrator has every permission whatever the role; "All access" says so on the agent form too.
    const roleId = (await trx('roles').where({ name: 'All access' }).first('id'))?.id ?? null;
    const [agentId] = await trx('agents').insert({
      username: input.username, email: input.email, name: input.name, password_hash: hash, role: 'admin', role_id: roleId,
      department_id: dept, is_active: true, password_changed_at: now, created_at: now, updated_at: now,
    });
    await recordAudit(ctx, trx, { action: 'agent.create', entity: 'agent', entityId: agentId, after: { username: input.username, role: 'admin', via: opts.onlyFirst ? 'setup' : 'cli' } });
    return agentId;
  });
  return (await loadAgentActor(ctx.db, id))!;
}
