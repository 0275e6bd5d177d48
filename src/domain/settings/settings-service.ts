/**
 * Help desk settings: defaults live here, overrides in the `settings` table (JSON text per key).
 * Reads are cheap (one small table); every request reads fresh so all processes agree — once per
 * request: inside `withRequestMemo` (app.ts wraps each HTTP request) the first read is reused by
 * the rest of that request, and a write in the request clears it. Nothing outlives the request.
 * The first read usually rides along with the request's own first statement (its session, its API
 * key: settingsColumn + primeSettings), so settings cost no statement of their own.
 */
import { z } from 'zod';
import type { Knex } from 'knex';
import { jsonObject, sqlJsonObjectAgg, toDbDate } from '../../db/dialect.ts';
import { requestMemo } from '../request-memo.ts';

/** Control characters (C0, DEL, C1) and Unicode line/paragraph separators: a line break in a name would cut mail subjects and headers. */
const CONTROL_CHARACTERS = /[\p{Cc}\u2028\u2029]/u;

export const SettingsSchema = z.object({
  helpdesk_name: z.string().min(1).max(120)
    .refine((s) => !CONTROL_CHARACTERS.test(s), 'Help desk name must not contain line breaks or other control characters')
    .default('Tessera Help Desk'),
  timezone: z.string().min(1).max(64).default('UTC'),
  default_department_id: z.number().int().nullable().default(null),
  default_sla_plan_id: z.number().int().nullable().default(null),
  default_priority_id: z.number().int().nullable().default(null),
  default_topic_id: z.number().int().nullable().default(null),
  default_schedule_id: z.number().int().nullable().default(null),
  ticket_number_format: z.enum(['random', 'sequential']).default('random'),
  ticket_number_length: z.number().int().min(4).max(12).default(6),
  reopen_on_user_reply: z.boolean().default(true),
  /** People opening a ticket on the portal may copy others in (CCs; off by default: it mails addresses the desk never met). */
  portal_allow_cc: z.boolean().default(false),
  auto_claim_on_reply: z.boolean().default(true),
  attachment_max_bytes: z.number().int().min(1024).default(10 * 1024 * 1024),
  attachment_max_count: z.number().int().min(0).max(20).default(5),
  /** Allowed file extensions, lower case without dots; empty list = any type. */
  attachment_allowed_types: z.array(z.string()).default(['png', 'jpg', 'jpeg', 'gif', 'webp', 'pdf', 'txt', 'log', 'csv', 'doc', 'docx', 'xls', 'xlsx', 'ppt', 'pptx', 'odt', 'ods', 'zip', 'eml']),
  autoresponse_new_ticket: z.boolean().default(true),
  autoresponse_new_message: z.boolean().default(false),
  notice_response: z.boolean().default(true),
  notice_closed: z.boolean().default(true),
  alert_new_ticket: z.boolean().default(true),
  alert_new_message: z.boolean().default(true),
  alert_assigned: z.boolean().default(true),
  alert_transfer: z.boolean().default(true),
  alert_overdue: z.boolean().default(true),
  login_max_failures: z.number().int().min(1).max(100).default(5),
  login_lockout_minutes: z.number().int().min(1).max(24 * 60).default(15),
  overdue_interval_seconds: z.number().int().min(5).max(3600).default(60),
  /** Close a ticket that waited this many days on the requester without an answer (0 = never; sla-pause.ts, ticket-waiting.ts). */
  waiting_auto_close_days: z.number().int().min(0).max(365).default(0),
  lock_minutes: z.number().int().min(1).max(60).default(3),
  require_2fa: z.enum(['none', 'admins', 'all']).default('none'),
  session_idle_minutes: z.number().int().min(5).max(7 * 24 * 60).default(120),
  session_absolute_hours: z.number().int().min(1).max(24 * 30).default(12),
  /** Address users reply to (Reply-To); inbound mail to it threads into tickets. */
  inbound_address: z.string().max(191).default(''),
  page_size: z.number().int().min(10).max(200).default(25),
  /**
   * Webhooks may be sent to loopback and private addresses (127.0.0.0/8, 10/8, 172.16/12, 192.168/16, ::1,
   * fc00::/7). Off by default: an admin-typed URL must not reach the help desk's own network (SSRF).
   * Link-local and cloud metadata addresses stay refused either way (src/domain/webhooks/webhook-address.ts).
   */
  webhooks_allow_local_network: z.boolean().default(false),
  /** Requests per minute one API key may make (all /api endpoints together). */
  api_rate_limit_per_minute: z.number().int().min(1).max(100_000).default(300),
  /** Changes with every change of the ticket filters ('' = none was ever saved): each process re-reads them then (ticket-filter-service.ts). Not a form field. */
  filters_version: z.string().max(64).default(''),
  /** Changes with every change of the custom ticket fields ('' = none was ever saved): each process re-reads them then (src/domain/fields/). Not a form field. */
  fields_version: z.string().max(64).default(''),
  /** Changes with every change of the knowledge base ('' = none was ever saved): each process re-reads the featured articles then (kb-queries.ts). Not a form field. */
  kb_version: z.string().max(64).default(''),
  /** Changes with every change of the customised mail templates ('' = none was ever saved): each process re-reads them then (mail-template-service.ts). Not a form field. */
  mail_templates_version: z.string().max(64).default(''),
  /** Changes with every change of the webhooks ('' = none was ever saved): each process re-reads the active ones then (src/domain/webhooks/). Not a form field. */
  webhooks_version: z.string().max(64).default(''),
  /**
   * Changes with every change of the roles: each process re-reads their permissions then (src/domain/roles/).
   * Never empty (the migration installs the default roles): 'installed' until the first change. Not a form field.
   */
  roles_version: z.string().min(1).max(64).default('installed'),
});

export type Settings = z.infer<typeof SettingsSchema>;
export type SettingKey = keyof Settings;


/** Reads all settings, stored values over defaults. A stored value that no longer parses falls back to the default. */
export async function getSettings(db: Knex | Knex.Transaction): Promise<Settings> {
  const memo = requestMemo();
  if (!memo) return { ...(await readSettings(db)) };
  memo.settings ??= readSettings(db).catch((err) => {
    memo.settings = undefined;
    throw err;
  });
  return { ...((await memo.settings) as Settings) };
}

/**
 * The settings table as one column (`{key: value, …}`) to add to a request's first read — its
 * session, its API key — so that reading them costs no statement of their own. Hand the column's
 * value to primeSettings.
 */
export function settingsColumn(db: Knex | Knex.Transaction): Knex.Raw {
  return db.raw('(?) as settings_rows', [db('settings').select(sqlJsonObjectAgg(db, 'key', 'value'))]);
}

/**
 * Takes the settings read with settingsColumn as this request's (see request-memo.ts), unless it has
 * read or primed them already. A column that does not parse (MariaDB cuts an aggregate at
 * group_concat_max_len) is ignored: getSettings then reads the table.
 */
export function primeSettings(column: unknown): void {
  const memo = requestMemo();
  if (!memo || memo.settings) return;
  const text = typeof column === 'string' ? column : column === null || column === undefined ? '' : undefined; // '': no rows
  const known = text === undefined ? undefined : parsedSettings.get(text);
  if (known) {
    memo.settings = Promise.resolve(known);
    return;
  }
  let stored: Record<string, unknown>;
  try {
    stored = jsonObject(column);
  } catch {
    return;
  }
  const settings = settingsFrom(Object.entries(stored).map(([key, value]) => ({ key, value: String(value) })));
  if (text !== undefined) remember(text, settings);
  memo.settings = Promise.resolve(settings);
}

async function readSettings(db: Knex | Knex.Transaction): Promise<Settings> {
  const rows: { key: string; value: string }[] = await db('settings').select('key', 'value');
  const text = rows.map((r) => `${r.key}\u0000${r.value}`).sort().join('\u0001');
  const known = parsedSettings.get(text);
  if (known) return known;
  const settings = settingsFrom(rows);
  remember(text, settings);
  return settings;
}

/**
 * The settings parsed from a table's text, by that text: checking ~40 values against the schema costs
 * ~40 µs, on every request, for a table that changes once in a while. Each request still reads the
 * table (so every process agrees at once after a change); only the parsing of a text seen before is
 * skipped. The result is frozen (arrays included) and getSettings hands out copies. A handful of texts
 * at most: an admin's change adds one, and the map starts over when full.
 */
const parsedSettings = new Map<string, Settings>();
const PARSED_SETTINGS_MAX = 16;

function remember(text: string, settings: Settings): void {
  if (parsedSettings.size >= PARSED_SETTINGS_MAX) parsedSettings.clear();
  for (const value of Object.values(settings)) if (Array.isArray(value)) Object.freeze(value);
  parsedSettings.set(text, Object.freeze(settings));
}

function settingsFrom(rows: { key: string; value: string }[]): Settings {
  const stored: Record<string, unknown> = {};
  for (const row of rows) {
    try {
      stored[row.key] = JSON.parse(row.value);
    } catch {
      /* ignore unreadable rows; the default applies */
    }
  }
  const shape = SettingsSchema.shape as Record<string, z.ZodType>;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(shape)) {
    const parsed = shape[key].safeParse(stored[key]);
    out[key] = parsed.success ? parsed.data : shape[key].parse(undefined);
  }
  return out as Settings;
}

/** Writes some settings (already validated by the caller's schema). Returns the previous values of those keys. */
export async function writeSettings(db: Knex | Knex.Transaction, values: Partial<Settings>, now: Date): Promise<Partial<Settings>> {
  const memo = requestMemo();
  if (memo) memo.settings = undefined;
  const before = await readSettings(db);
  const previous: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    previous[key] = before[key as SettingKey];
    const row = { key, value: JSON.stringify(value), updated_at: toDbDate(now) };
    const updated = await db('settings').where({ key }).update({ value: row.value, updated_at: row.updated_at });
    if (!updated) await db('settings').insert(row);
  }
  if (memo) memo.settings = undefined;
  return previous as Partial<Settings>;
}
