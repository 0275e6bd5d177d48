/**
 * An agent's own account: forgotten-password reset by email, profile (name, signature) and password change.
 * Ending sessions is the web layer's part (the session store lives there); services return who.
 */
import { z } from 'zod';
import { dbBool, toDbDate } from '../../db/dialect.ts';
import { recordAudit } from '../audit/audit-service.ts';
import { requireAgent, type AgentActor } from '../actor.ts';
import { inTransaction, type ServiceContext } from '../context.ts';
import { Forbidden, NotFound, ValidationFailed } from '../errors.ts';
import { queueMail } from '../mail/outbox-service.ts';
import { checkbox, parseInput, password, requiredText, signatureText } from '../validation.ts';
import { changes } from '../admin/admin-support.ts';
import { createAccessToken, findAccessToken } from './access-tokens.ts';
import { DUMMY_HASH, hashPassword, verifyPassword } from './passwords.ts';

/** How long a reset link works, and how many links one account may receive per hour. */
export const RESET_TTL_MINUTES = 60;
export const RESETS_PER_ACCOUNT_PER_HOUR = 3;

export const RequestPasswordResetInput = z.object({
  login: requiredText(191, 'Username or email'),
});
export type RequestPasswordResetInput = z.input<typeof RequestPasswordResetInput>;

/**
 * Emails a one-time reset link to the active agent with that username or email. Says nothing about
 * whether the account exists: unknown accounts, inactive ones and accounts over the per-account
 * limit get the same (silent) outcome. @throws ValidationFailed
 */
export async function requestPasswordReset(ctx: ServiceContext, raw: RequestPasswordResetInput): Promise<void> {
  const input = parseInput(RequestPasswordResetInput, raw);
  await inTransaction(ctx, async (trx) => {
    const row = await trx('agents').where('username', input.login).orWhere('email', input.login.toLowerCase()).first('id', 'name', 'email', 'is_active');
    if (!row || !dbBool(row.is_active)) return;
    const now = ctx.clock();
    const since = toDbDate(new Date(now.getTime() - 3600_000));
    const recent = await trx('access_tokens').where({ kind: 'password_reset', agent_id: row.id }).where('created_at', '>', since).count<{ n: number }[]>({ n: '*' });
    if (Number(recent[0].n) >= RESETS_PER_ACCOUNT_PER_HOUR) {
      await recordAudit(ctx, trx, { action: 'password.reset_throttled', entity: 'agent', entityId: row.id });
      return;
    }
    const token = await createAccessToken(trx, { kind: 'password_reset', agentId: row.id, ttlMinutes: RESET_TTL_MINUTES }, now);
    const link = `${ctx.publicUrl}/scp/password/reset?token=${encodeURIComponent(token)}`;
    await queueMail(ctx, trx, { template: 'password-reset', to: row.email, toName: row.name, automatic: 'auto-generated', vars: { name: row.name, link, minutes: RESET_TTL_MINUTES } });
    await recordAudit(ctx, trx, { action: 'password.reset_requested', entity: 'agent', entityId: row.id });
  });
}

/** Checks a reset link without using it (for the form). @throws NotFound (RESET_LINK_INVALID) */
export async function checkPasswordResetToken(ctx: ServiceContext, token: unknown): Promise<void> {
  const found = await findAccessToken(ctx.db, 'password_reset', token, ctx.clock(), false);
  if (!found?.agentId) throw new NotFound('This reset link is invalid, has expired or was already used.', 'RESET_LINK_INVALID');
}

const newPasswordFields = {
  password,
  password_confirm: z.string({ error: 'Repeat the new password' }).max(1024),
};
const passwordsMatch = (v: { password: string; password_confirm: string }) => v.password === v.password_confirm;
const mismatch = { message: 'The two passwords differ', path: ['password_confirm'] };

export const ResetPasswordInput = z.object({ token: z.string().max(200), ...newPasswordFields }).refine(passwordsMatch, mismatch);
export type ResetPasswordInput = z.input<typeof ResetPasswordInput>;

/**
 * Sets a new password with a reset link, using the link up (once). Also lifts a lockout. The caller
 * ends every session of the returned agent. @throws ValidationFailed, NotFound (RESET_LINK_INVALID)
 */
export async function resetPassword(ctx: ServiceContext, raw: ResetPasswordInput): Promise<{ agentId: number }> {
  const input = parseInput(ResetPasswordInput, raw);
  const hash = await hashPassword(input.password);
  return inTransaction(ctx, async (trx) => {
    const now = ctx.clock();
    const found = await findAccessToken(trx, 'password_reset', input.token, now, true);
    const row = found?.agentId ? await trx('agents').where({ id: found.agentId }).first('id', 'is_active') : undefined;
    if (!row || !dbBool(row.is_active)) throw new NotFound('This reset link is invalid, has expired or was already used.', 'RESET_LINK_INVALID');
    await trx('agents').where({ id: row.id }).update({ password_hash: hash, password_changed_at: toDbDate(now), failed_logins: 0, locked_until: null, updated_at: toDbDate(now) });
    // Other reset links of this agent die with this one.
    await trx('access_tokens').where({ kind: 'password_reset', agent_id: row.id }).whereNull('used_at').update({ used_at: toDbDate(now) });
    await recordAudit(ctx, trx, { action: 'password.reset', entity: 'agent', entityId: row.id });
    return { agentId: row.id as number };
  });
}

function requireAgentActor(ctx: ServiceContext): AgentActor {
  return requireAgent(ctx.actor, 'Sign in as an agent first.');
}

export interface AgentProfile {
  id: number;
  username: string;
  email: string;
  name: string;
  /** Appended to a reply when the agent chooses "My signature" (null: none). */
  signature: string | null;
  /** Away (vacation): no department or team alerts, no automatic assignments. */
  isAway: boolean;
}

/** The signed-in agent's own profile. @throws Forbidden (AGENT_ONLY), NotFound */
export async function getAgentProfile(ctx: ServiceContext): Promise<AgentProfile> {
  const agent = requireAgentActor(ctx);
  const row = await ctx.db('agents').where({ id: agent.id }).first('id', 'username', 'email', 'name', 'signature', 'is_away');
  if (!row) throw new NotFound('Agent not found.', 'AGENT_NOT_FOUND');
  return { id: row.id, username: row.username, email: row.email, name: row.name, signature: row.signature ?? null, isAway: dbBool(row.is_away) };
}

/** The profile form: name, signature and away (the whole form: an empty or absent signature removes it; an absent checkbox is not away). */
export const UpdateAgentProfileInput = z.object({ name: requiredText(120, 'Name'), signature: signatureText, isAway: checkbox.default(false) });
export type UpdateAgentProfileInput = z.input<typeof UpdateAgentProfileInput>;

/** Changes the signed-in agent's display name and signature; the audit row holds what changed. @throws Forbidden (AGENT_ONLY), ValidationFailed */
export async function updateAgentProfile(ctx: ServiceContext, raw: UpdateAgentProfileInput): Promise<AgentProfile> {
  const agent = requireAgentActor(ctx);
  const input = parseInput(UpdateAgentProfileInput, raw);
  await inTransaction(ctx, async (trx) => {
    const before = await trx('agents').where({ id: agent.id }).first('name', 'signature', 'is_away');
    await trx('agents').where({ id: agent.id }).update({ name: input.name, signature: input.signature, is_away: input.isAway, updated_at: toDbDate(ctx.clock()) });
    const diff = changes({ name: before?.name, signature: before?.signature ?? null, isAway: dbBool(before?.is_away) }, { name: input.name, signature: input.signature, isAway: input.isAway });
    await recordAudit(ctx, trx, { action: 'agent.profile', entity: 'agent', entityId: agent.id, ...diff });
  });
  return getAgentProfile(ctx);
}

export const ChangeAgentPasswordInput = z
  .object({ current_password: z.string({ error: 'Enter your current password' }).min(1, 'Enter your current password').max(1024), ...newPasswordFields })
  .refine(passwordsMatch, mismatch);
export type ChangeAgentPasswordInput = z.input<typeof ChangeAgentPasswordInput>;

/**
 * Changes the signed-in agent's password; the current one is required. The caller ends the agent's
 * other sessions. @throws ValidationFailed (current_password wrong, new one weak or the same)
 */
export async function changeAgentPassword(ctx: ServiceContext, raw: ChangeAgentPasswordInput): Promise<{ agentId: number }> {
  const agent = requireAgentActor(ctx);
  const input = parseInput(ChangeAgentPasswordInput, raw);
  const row = await ctx.db('agents').where({ id: agent.id }).first('password_hash');
  if (!(await verifyPassword(input.current_password, row?.password_hash ?? DUMMY_HASH)))
    throw new ValidationFailed({ current_password: 'That is not your current password.' });
  if (input.password === input.current_password) throw new ValidationFailed({ password: 'Choose a password different from the current one.' });
  const hash = await hashPassword(input.password);
  await inTransaction(ctx, async (trx) => {
    const now = toDbDate(ctx.clock());
    await trx('agents').where({ id: agent.id }).update({ password_hash: hash, password_changed_at: now, updated_at: now });
    await recordAudit(ctx, trx, { action: 'password.change', entity: 'agent', entityId: agent.id });
  });
  return { agentId: agent.id };
}
