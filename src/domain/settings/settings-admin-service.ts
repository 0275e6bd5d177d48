/**
 * Admin: the help desk settings form. The form speaks in people's units (MB, comma-separated file
 * types, checkboxes); this service validates it with zod, checks that the chosen defaults exist and
 * are active, and writes the changed keys with writeSettings and one audit row.
 */
import { z } from 'zod';
import { IANAZone } from 'luxon';
import { dbBool } from '../../db/dialect.ts';
import { recordAudit } from '../audit/audit-service.ts';
import { inTransaction, type ServiceContext } from '../context.ts';
import { ValidationFailed } from '../errors.ts';
import { checkbox, optionalId, requiredText } from '../validation.ts';
import { assertAdmin, changes, validateForm, type FormInput } from '../admin/admin-support.ts';
import { getSettings, SettingsSchema, writeSettings, type Settings } from './settings-service.ts';

/** Checkbox settings (one form checkbox each). */
export const SETTING_FLAGS = [
  'reopen_on_user_reply', 'portal_allow_cc', 'auto_claim_on_reply', 'autoresponse_new_ticket', 'autoresponse_new_message', 'notice_response', 'notice_closed',
  'alert_new_ticket', 'alert_new_message', 'alert_assigned', 'alert_transfer', 'alert_overdue', 'webhooks_allow_local_network',
] as const;

/** A whole number; `label` is the field's label on the form (the messages name it, as the user sees it). */
const int = (label: string, min: number, max: number) =>
  z.coerce.number({ error: `${label}: enter a whole number` }).int(`${label}: enter a whole number`).min(min, `${label}: at least ${min}`).max(max, `${label}: at most ${max}`);
const shape = SettingsSchema.shape;

export const SettingsFormInput = z.object({
  /** Trimmed and required here, then SettingsSchema's own rules (no control characters). */
  helpdesk_name: requiredText(120, 'Help desk name').pipe(shape.helpdesk_name.removeDefault()),
  timezone: z.string({ error: 'Choose a time zone' }).trim().refine((tz) => IANAZone.isValidZone(tz), 'Choose a time zone from the list'),
  default_department_id: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number({ error: 'Choose a default department' }).int().positive('Choose a default department')),
  default_sla_plan_id: optionalId,
  default_priority_id: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number({ error: 'Choose a default priority' }).int().positive('Choose a default priority')),
  default_topic_id: optionalId,
  default_schedule_id: optionalId,
  ticket_number_format: z.enum(shape.ticket_number_format.removeDefault().options, { error: 'Ticket numbers: choose from the list' }),
  ticket_number_length: int('Digits in a random number', 4, 12),
  attachment_max_mb: z.coerce.number({ error: 'Maximum file size (MB): enter a number' }).min(0.01, 'Maximum file size (MB): at least 0.01').max(1024, 'Maximum file size (MB): at most 1024'),
  attachment_max_count: int('Files per message', 0, 20),
  attachment_allowed_types: z.string({ error: 'Allowed file types: enter text' }).max(2000, 'Allowed file types: too many')
    .transform((s) => [...new Set(s.split(/[\s,;]+/).map((t) => t.trim().replace(/^\./, '').toLowerCase()).filter(Boolean))])
    .refine((list) => list.every((t) => /^[a-z0-9]{1,10}$/.test(t)), 'Allowed file types: use extensions like pdf, png, docx separated by commas'),
  login_max_failures: int('Failed sign-ins before lockout', 1, 100),
  login_lockout_minutes: int('Lockout (minutes)', 1, 24 * 60),
  overdue_interval_seconds: int('Overdue check interval (seconds)', 5, 3600),
  lock_minutes: int('Ticket lock (minutes)', 1, 60),
  waiting_auto_close_days: int('Close tickets waiting on the requester after (days)', 0, 365),
  require_2fa: z.enum(shape.require_2fa.removeDefault().options, { error: 'Two-factor sign-in required for: choose from the list' }),
  session_idle_minutes: int('Idle timeout (minutes)', 5, 7 * 24 * 60),
  session_absolute_hours: int('Absolute session timeout (hours)', 1, 24 * 30),
  inbound_address: z.preprocess((v) => (v == null ? '' : v), z.string({ error: 'Help desk address (inbound): enter an email address' }).trim().toLowerCase()
    .max(191, 'Help desk address (inbound): at most 191 characters')
    .refine((a) => a === '' || z.email().safeParse(a).success, 'Help desk address (inbound): enter a valid email address')),
  page_size: int('Rows per page', 10, 200),
  ...Object.fromEntries(SETTING_FLAGS.map((k) => [k, checkbox])) as Record<(typeof SETTING_FLAGS)[number], typeof checkbox>,
});
export type SettingsFormInput = FormInput<typeof SettingsFormInput>;

/** The settings as the form shows them (strings and booleans). @throws Forbidden */
export async function getSettingsForm(ctx: ServiceContext): Promise<Record<string, unknown>> {
  assertAdmin(ctx);
  const s = await getSettings(ctx.db);
  const out: Record<string, unknown> = { ...s };
  for (const [k, v] of Object.entries(s)) if (typeof v === 'number') out[k] = String(v);
  out.attachment_max_mb = String(Math.round((s.attachment_max_bytes / 1024 / 1024) * 100) / 100);
  out.attachment_allowed_types = s.attachment_allowed_types.join(', ');
  for (const k of Object.keys(out)) if (out[k] === null) out[k] = '';
  return out;
}

/** Defaults must name something that exists and is active (those that parsed: checked with the rest of the form). */
async function checkDefaults(db: ServiceContext['db'], input: Partial<z.output<typeof SettingsFormInput>>): Promise<void> {
  const fields: Record<string, string> = {};
  const refs: [keyof typeof input, string][] = [['default_department_id', 'departments'], ['default_sla_plan_id', 'sla_plans'], ['default_priority_id', 'priorities'], ['default_topic_id', 'help_topics'], ['default_schedule_id', 'schedules']];
  for (const [field, table] of refs) {
    const value = input[field] as number | undefined;
    if (!value) continue;
    const row = await db(table).where({ id: value }).first('is_active');
    if (!row || !dbBool(row.is_active)) fields[field] = 'Choose an active entry from the list';
  }
  if (Object.keys(fields).length) throw new ValidationFailed(fields);
}

/** Validates and saves the settings form; writes one audit row with the changed keys. @throws Forbidden, ValidationFailed */
export async function updateSettings(ctx: ServiceContext, raw: SettingsFormInput): Promise<void> {
  assertAdmin(ctx);
  const input = await validateForm(SettingsFormInput, raw, (v) => [() => checkDefaults(ctx.db, v)]);
  const { attachment_max_mb, ...rest } = input;
  const values: Partial<Settings> = {
    ...rest,
    default_sla_plan_id: input.default_sla_plan_id ?? null,
    default_topic_id: input.default_topic_id ?? null,
    default_schedule_id: input.default_schedule_id ?? null,
    attachment_max_bytes: Math.max(1024, Math.round(attachment_max_mb * 1024 * 1024)),
  };
  await inTransaction(ctx, async (trx) => {
    const before = await getSettings(trx);
    const diff = changes(before, values);
    if (!Object.keys(diff.after).length) return;
    await writeSettings(trx, diff.after as Partial<Settings>, ctx.clock());
    await recordAudit(ctx, trx, { action: 'settings.update', entity: 'settings', ...diff });
  });
}
