/** API keys: random, shown once, stored as a SHA-256 hash, restricted to an address or range. */
import crypto from 'node:crypto';
import net from 'node:net';
import { z } from 'zod';
import { toDbDate } from '../../db/dialect.ts';
import { recordAudit } from '../audit/audit-service.ts';
import { isAdmin } from '../actor.ts';
import { inTransaction, type ServiceContext } from '../context.ts';
import { Forbidden, ValidationFailed } from '../errors.ts';
import { checkbox, optionalText, parseInput } from '../validation.ts';

/** True when `ip` is `allowed` (an address, a CIDR range, or '*' / '0.0.0.0/0' for any). */
export function ipAllowed(allowed: string, ip: string | undefined): boolean {
  if (!ip) return false;
  const addr = ip.replace(/^::ffff:/, '');
  if (allowed === '*') return true;
  const [base, bitsRaw] = allowed.split('/');
  const cleanBase = base.replace(/^::ffff:/, '');
  if (bitsRaw === undefined) return cleanBase === addr;
  const family = net.isIPv4(cleanBase) ? 'ipv4' : 'ipv6';
  if ((family === 'ipv4') !== net.isIPv4(addr)) return false;
  const list = new net.BlockList();
  list.addSubnet(cleanBase, Number(bitsRaw), family);
  return list.check(addr, family);
}

function validIpOrRange(v: string): boolean {
  if (v === '*') return true;
  const [base, bits] = v.split('/');
  const fam = net.isIP(base);
  if (!fam) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^\d+$/.test(bits) && n >= 0 && n <= (fam === 4 ? 32 : 128);
}

export const CreateApiKeyInput = z.object({
  allowedIp: z.string().trim().min(1, 'Enter an IP address or range').max(64).refine(validIpOrRange, 'Enter an IP address (10.0.0.5), a range (10.0.0.0/24) or *'),
  note: optionalText(255, 'Note'),
  canCreateTickets: checkbox.default(true),
  canManageTickets: checkbox.default(false),
});
export type CreateApiKeyInput = z.input<typeof CreateApiKeyInput>;

export function hashApiKey(key: string): string {
  return crypto.createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * Creates an API key (admins, or the system actor for the CLI). Returns the key itself, shown once.
 * @throws ValidationFailed, Forbidden
 */
export async function createApiKey(ctx: ServiceContext, raw: CreateApiKeyInput): Promise<{ id: number; key: string }> {
  if (!isAdmin(ctx.actor) && ctx.actor.kind !== 'system') throw new Forbidden('Only administrators can create API keys.', 'ADMIN_ONLY');
  const input = parseInput(CreateApiKeyInput, raw);
  if (!input.canCreateTickets && !input.canManageTickets) throw new ValidationFailed({ canCreateTickets: 'Give the key at least one permission' });
  const key = 'tsk_' + crypto.randomBytes(24).toString('base64url');
  const id = await inTransaction(ctx, async (trx) => {
    const [newId] = await trx('api_keys').insert({
      key_hash: hashApiKey(key),
      key_prefix: key.slice(0, 10),
      note: input.note ?? null,
      allowed_ip: input.allowedIp,
      can_create_tickets: input.canCreateTickets,
      can_manage_tickets: input.canManageTickets,
      is_active: true,
      created_by_agent_id: ctx.actor.kind === 'agent' ? ctx.actor.id : null,
      created_at: toDbDate(ctx.clock()),
    });
    await recordAudit(ctx, trx, { action: 'api_key.create', entity: 'api_key', entityId: newId, after: { allowedIp: input.allowedIp, note: input.note, prefix: key.slice(0, 10) } });
    return newId;
  });
  return { id, key };
}
