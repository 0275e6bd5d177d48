/**
 * Two-factor sign-in for agents: TOTP (an authenticator app, RFC 6238, 30-second steps, 6 digits) and
 * ten one-time recovery codes stored as bcrypt hashes. Enrolment: `beginTwoFactorEnrolment` keeps a
 * pending secret on the agent, `confirmTwoFactorEnrolment` checks a first code and switches it on.
 * Sign-in: after the password, `verifySecondFactor` checks a code; a wrong code counts as a failed
 * sign-in (the same lockout as a wrong password).
 */
import crypto from 'node:crypto';
import { z } from 'zod';
import { generateSecret, generateURI, verify as verifyTotp } from 'otplib';
import { dbBool, dbDate, toDbDate } from '../../db/dialect.ts';
import { loadAgentActor } from '../agents/agent-queries.ts';
import { isAgent, requireAgent, type AgentActor } from '../actor.ts';
import { recordAudit } from '../audit/audit-service.ts';
import { inTransaction, type ServiceContext } from '../context.ts';
import { Conflict, Forbidden, Unauthenticated, ValidationFailed } from '../errors.ts';
import { getSettings, type Settings } from '../settings/settings-service.ts';
import { parseInput } from '../validation.ts';
import { DUMMY_HASH, hashPassword, verifyPassword } from './passwords.ts';

const RECOVERY_CODE_COUNT = 10;
const PERIOD_SECONDS = 30;

/** The signed-in agent, or Forbidden (these actions are for an agent's own account only). */
function requireAgentActor(ctx: ServiceContext): AgentActor {
  return requireAgent(ctx.actor, 'Sign in as an agent first.');
}

/** True when the setting `require_2fa` applies to an agent of this role. */
export function isTwoFactorRequired(settings: Settings, role: 'admin' | 'agent'): boolean {
  return settings.require_2fa === 'all' || (settings.require_2fa === 'admins' && role === 'admin');
}

export type SecondFactorStep = 'none' | 'verify' | 'enrol';

/**
 * What an agent whose password was just accepted must do next: 'verify' (2FA is on: ask for a code),
 * 'enrol' (2FA is required for them but not set up yet) or 'none'.
 */
export async function secondFactorStep(ctx: ServiceContext, agent: AgentActor): Promise<SecondFactorStep> {
  const row = await ctx.db('agents').where({ id: agent.id }).first('totp_enabled');
  if (row && dbBool(row.totp_enabled)) return 'verify';
  return isTwoFactorRequired(await getSettings(ctx.db), agent.role) ? 'enrol' : 'none';
}

/** True when the signed-in agent must set up 2FA before using the panel (required by the settings, not on yet). */
export async function mustEnrolTwoFactor(ctx: ServiceContext): Promise<boolean> {
  if (!isAgent(ctx.actor)) return false;
  if (!isTwoFactorRequired(await getSettings(ctx.db), ctx.actor.role)) return false;
  const row = await ctx.db('agents').where({ id: ctx.actor.id }).first('totp_enabled');
  return !row || !dbBool(row.totp_enabled);
}

export interface TwoFactorStatus {
  enabled: boolean;
  required: boolean;
  recoveryCodesLeft: number;
}

/** The signed-in agent's 2FA state, for the profile page. */
export async function getTwoFactorStatus(ctx: ServiceContext): Promise<TwoFactorStatus> {
  const agent = requireAgentActor(ctx);
  const row = await ctx.db('agents').where({ id: agent.id }).first('totp_enabled', 'recovery_codes');
  return {
    enabled: dbBool(row?.totp_enabled),
    required: isTwoFactorRequired(await getSettings(ctx.db), agent.role),
    recoveryCodesLeft: parseCodes(row?.recovery_codes).length,
  };
}

export interface TwoFactorEnrolment {
  /** Base32 secret, for typing into an app that cannot scan. */
  secret: string;
  /** otpauth:// URI encoded in the QR code. */
  uri: string;
  /** The QR code as a PNG data URL (rendered on the server; CSP allows img-src data:). */
  qrDataUrl: string;
}

/**
 * Starts (or resumes) enrolment: keeps a pending secret on the agent until it is confirmed, so
 * reloading the page shows the same QR code. @throws Forbidden, Conflict (TWO_FACTOR_ALREADY_ON)
 */
export async function beginTwoFactorEnrolment(ctx: ServiceContext): Promise<TwoFactorEnrolment> {
  const agent = requireAgentActor(ctx);
  const secret = await inTransaction(ctx, async (trx) => {
    const row = await trx('agents').where({ id: agent.id }).forUpdate().first('email', 'totp_enabled', 'totp_secret');
    if (dbBool(row.totp_enabled)) throw new Conflict('Two-factor sign-in is already on.', 'TWO_FACTOR_ALREADY_ON');
    if (row.totp_secret) return row.totp_secret as string;
    const fresh = generateSecret();
    await trx('agents').where({ id: agent.id }).update({ totp_secret: fresh, updated_at: toDbDate(ctx.clock()) });
    return fresh;
  });
  const row = await ctx.db('agents').where({ id: agent.id }).first('email');
  const settings = await getSettings(ctx.db);
  const uri = generateURI({ issuer: settings.helpdesk_name, label: row.email, secret });
  // Loaded on first use: the QR encoder (~9 MB) is needed only while an agent sets up two-factor sign-in.
  const QRCode = (await import('qrcode')).default;
  return { secret, uri, qrDataUrl: await QRCode.toDataURL(uri, { errorCorrectionLevel: 'M', margin: 2, width: 220 }) };
}

export const ConfirmTwoFactorInput = z.object({
  code: z.string({ error: 'Enter the 6-digit code from your app' }).trim().regex(/^\d{6}$/, 'Enter the 6-digit code from your app'),
});
export type ConfirmTwoFactorInput = z.input<typeof ConfirmTwoFactorInput>;

/**
 * Switches 2FA on after a first correct code, and returns ten recovery codes (shown once; only their
 * bcrypt hashes are kept). @throws Forbidden, Conflict, ValidationFailed (code: wrong code)
 */
export async function confirmTwoFactorEnrolment(ctx: ServiceContext, raw: ConfirmTwoFactorInput): Promise<{ recoveryCodes: string[] }> {
  const agent = requireAgentActor(ctx);
  const input = parseInput(ConfirmTwoFactorInput, raw);
  const { codes, hashes } = await newRecoveryCodes();
  await inTransaction(ctx, async (trx) => {
    const row = await trx('agents').where({ id: agent.id }).forUpdate().first('totp_enabled', 'totp_secret', 'totp_last_step');
    if (dbBool(row.totp_enabled)) throw new Conflict('Two-factor sign-in is already on.', 'TWO_FACTOR_ALREADY_ON');
    if (!row.totp_secret) throw new Conflict('Start the setup again.', 'TWO_FACTOR_NOT_STARTED');
    const step = await matchTotp(row.totp_secret, input.code, ctx.clock(), row.totp_last_step);
    if (step === null) throw new ValidationFailed({ code: 'That code is not right. Check the time on your phone and try the newest code.' });
    await trx('agents').where({ id: agent.id }).update({ totp_enabled: true, totp_last_step: step, recovery_codes: JSON.stringify(hashes), updated_at: toDbDate(ctx.clock()) });
    await recordAudit(ctx, trx, { action: '2fa.enable', entity: 'agent', entityId: agent.id });
  });
  return { recoveryCodes: codes };
}

export const PasswordConfirmInput = z.object({
  current_password: z.string({ error: 'Enter your current password' }).min(1, 'Enter your current password').max(1024),
});
export type PasswordConfirmInput = z.input<typeof PasswordConfirmInput>;

/** Checks the signed-in agent's current password (for sensitive changes). @throws ValidationFailed */
async function checkCurrentPassword(ctx: ServiceContext, agentId: number, raw: PasswordConfirmInput): Promise<void> {
  const input = parseInput(PasswordConfirmInput, raw);
  const row = await ctx.db('agents').where({ id: agentId }).first('password_hash');
  if (!(await verifyPassword(input.current_password, row?.password_hash ?? DUMMY_HASH)))
    throw new ValidationFailed({ current_password: 'That is not your current password.' });
}

/**
 * Switches 2FA off (current password required). Refused while the settings require 2FA for this
 * agent. @throws Forbidden (TWO_FACTOR_REQUIRED), ValidationFailed
 */
export async function disableTwoFactor(ctx: ServiceContext, raw: PasswordConfirmInput): Promise<void> {
  const agent = requireAgentActor(ctx);
  if (isTwoFactorRequired(await getSettings(ctx.db), agent.role))
    throw new Forbidden('Two-factor sign-in is required for your account.', 'TWO_FACTOR_REQUIRED');
  await checkCurrentPassword(ctx, agent.id, raw);
  await inTransaction(ctx, async (trx) => {
    await trx('agents').where({ id: agent.id }).update({ totp_enabled: false, totp_secret: null, totp_last_step: null, recovery_codes: null, updated_at: toDbDate(ctx.clock()) });
    await recordAudit(ctx, trx, { action: '2fa.disable', entity: 'agent', entityId: agent.id });
  });
}

/** Replaces the recovery codes with ten new ones (current password required). @throws Conflict, ValidationFailed */
export async function regenerateRecoveryCodes(ctx: ServiceContext, raw: PasswordConfirmInput): Promise<{ recoveryCodes: string[] }> {
  const agent = requireAgentActor(ctx);
  await checkCurrentPassword(ctx, agent.id, raw);
  const { codes, hashes } = await newRecoveryCodes();
  await inTransaction(ctx, async (trx) => {
    const n = await trx('agents').where({ id: agent.id, totp_enabled: true }).update({ recovery_codes: JSON.stringify(hashes), updated_at: toDbDate(ctx.clock()) });
    if (n !== 1) throw new Conflict('Two-factor sign-in is not on.', 'TWO_FACTOR_OFF');
    await recordAudit(ctx, trx, { action: '2fa.recovery_codes', entity: 'agent', entityId: agent.id });
  });
  return { recoveryCodes: codes };
}

export const VerifySecondFactorInput = z.object({
  code: z.string({ error: 'Enter a code' }).trim().min(1, 'Enter a code').max(64),
});
export type VerifySecondFactorInput = z.input<typeof VerifySecondFactorInput>;

/**
 * Second step of sign-in: checks a TOTP code (each accepted once) or an unused recovery code (then
 * spent) for `agentId`, whose password was accepted a moment ago. A wrong code counts as a failed
 * sign-in towards the lockout. @throws ValidationFailed, Unauthenticated (INVALID_CODE, ACCOUNT_LOCKED)
 */
export async function verifySecondFactor(ctx: ServiceContext, agentId: number, raw: VerifySecondFactorInput): Promise<AgentActor> {
  const input = parseInput(VerifySecondFactorInput, raw);
  const now = ctx.clock();
  const row = await ctx.db('agents').where({ id: agentId }).first();
  if (!row || !dbBool(row.is_active) || !dbBool(row.totp_enabled)) throw new Unauthenticated('Please sign in again.', 'SIGN_IN_AGAIN');
  const lockedUntil = dbDate(row.locked_until);
  if (lockedUntil && lockedUntil > now) throw new Unauthenticated('Too many wrong codes. Sign in again later.', 'ACCOUNT_LOCKED');
  const used = await useCode(ctx, row, input.code.replace(/\s+/g, ''), now);
  if (!used) {
    await recordFailedCode(ctx, row, now);
    throw new Unauthenticated('That code is not right.', 'INVALID_CODE');
  }
  await ctx.db('agents').where({ id: agentId }).update({ failed_logins: 0, locked_until: null });
  const actor = await loadAgentActor(ctx.db, agentId);
  if (!actor) throw new Unauthenticated('Please sign in again.', 'SIGN_IN_AGAIN');
  await recordAudit({ ...ctx, actor }, ctx.db, { action: used === 'totp' ? '2fa.success' : '2fa.recovery_code_used', entity: 'agent', entityId: agentId });
  return actor;
}

/** Tries the code as TOTP (6 digits) or as a recovery code; marks it used atomically. */
async function useCode(ctx: ServiceContext, row: { id: number; totp_secret: string | null; totp_last_step: unknown; recovery_codes: string | null }, code: string, now: Date): Promise<'totp' | 'recovery' | null> {
  if (/^\d{6}$/.test(code)) {
    if (!row.totp_secret) return null;
    const step = await matchTotp(row.totp_secret, code, now, row.totp_last_step);
    if (step === null) return null;
    // Compare-and-set on the last step: two requests with the same code cannot both pass.
    const n = await ctx.db('agents').where({ id: row.id }).where((q) => q.whereNull('totp_last_step').orWhere('totp_last_step', '<', step)).update({ totp_last_step: step });
    return n === 1 ? 'totp' : null;
  }
  const hashes = parseCodes(row.recovery_codes);
  const normalised = normaliseRecoveryCode(code);
  for (let i = 0; i < hashes.length; i++) {
    if (!(await verifyPassword(normalised, hashes[i]))) continue;
    const rest = hashes.filter((_, j) => j !== i);
    // Compare-and-set on the stored list: a recovery code is spent once even under concurrency.
    const n = await ctx.db('agents').where({ id: row.id, recovery_codes: row.recovery_codes }).update({ recovery_codes: JSON.stringify(rest) });
    return n === 1 ? 'recovery' : null;
  }
  return null;
}

async function recordFailedCode(ctx: ServiceContext, row: { id: number; failed_logins: number; locked_until: unknown }, now: Date): Promise<void> {
  const settings = await getSettings(ctx.db);
  const failures = row.failed_logins + 1;
  const lock = failures >= settings.login_max_failures;
  await ctx.db('agents').where({ id: row.id }).update({
    failed_logins: lock ? 0 : failures,
    locked_until: lock ? toDbDate(new Date(now.getTime() + settings.login_lockout_minutes * 60_000)) : (row.locked_until as string | null),
  });
  await recordAudit(ctx, ctx.db, { action: lock ? 'login.lockout' : '2fa.failed', entity: 'agent', entityId: row.id });
}

/** The time step of `code` if it is valid now (±1 step for clock drift) and newer than `lastStep`. */
async function matchTotp(secret: string, code: string, now: Date, lastStep: unknown): Promise<number | null> {
  const result = await verifyTotp({ secret, token: code, epoch: Math.floor(now.getTime() / 1000), epochTolerance: PERIOD_SECONDS, period: PERIOD_SECONDS });
  if (!result.valid) return null;
  const step = Number((result as { timeStep?: number }).timeStep);
  if (!Number.isSafeInteger(step)) return null;
  if (lastStep !== null && lastStep !== undefined && step <= Number(lastStep)) return null; // replayed
  return step;
}

function parseCodes(v: unknown): string[] {
  if (typeof v !== 'string' || !v) return [];
  try {
    const parsed = JSON.parse(v);
    return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

/** Recovery codes look like `k7f3m-q9x2p`; case, spaces and the dash do not matter when typed. */
function normaliseRecoveryCode(code: string): string {
  return code.toLowerCase().replace(/[^a-z0-9]/g, '');
}

const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789'; // no 0/o, 1/l/i

async function newRecoveryCodes(): Promise<{ codes: string[]; hashes: string[] }> {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const chars = Array.from({ length: 10 }, () => ALPHABET[crypto.randomInt(ALPHABET.length)]).join('');
    return `${chars.slice(0, 5)}-${chars.slice(5)}`;
  });
  const hashes = await Promise.all(codes.map((c) => hashPassword(normaliseRecoveryCode(c))));
  return { codes, hashes };
}
