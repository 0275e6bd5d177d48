/**
 * Email templates (osTicket's "Email Templates"): admins reword the notifications listed in
 * src/mail/mail-template-catalog.ts. A reworded one is a row of `mail_templates` (subject and
 * plain-text body with {{placeholders}}); without a row the built-in views/mail template is sent.
 *
 * Safety: the admin's text is parsed, never evaluated (mail-placeholders.ts): unknown placeholders
 * and malformed braces are refused, values are substituted as plain text (escaped in HTML), and the
 * subject is one line. What a notification exists for must stay in it: a save is refused (never
 * patched up silently) when the body lacks its required placeholder — the reply in an agent
 * response, the link in an access, sign-in or reset mail — or when a subject of mail the requester
 * answers by email lacks the "[#{{ticket.number}}]" token that threads a reply whose headers were
 * lost. Message-IDs, In-Reply-To/References, Reply-To and Auto-Submitted do not depend on the text.
 *
 * Every change writes a new `mail_templates_version` into the settings in its transaction: each
 * process keeps the parsed texts and reads the table again only then; while nothing was ever
 * customised ('' version) rendering a mail reads nothing at all.
 */
import { versionCache } from '../version-cache.ts';
import crypto from 'node:crypto';
import { z } from 'zod';
import type { Knex } from 'knex';
import { dbDate, toDbDate } from '../../db/dialect.ts';
import { parsePlaceholders, usedKeys, type Segment } from '../../mail/mail-placeholders.ts';
import { MAIL_TEMPLATES, mailTemplateSpec, sampleVars, type MailTemplateSpec } from '../../mail/mail-template-catalog.ts';
import { renderCustomMail, renderMail, type CustomMailText, type RenderedMail } from '../../mail/mail-render.ts';
import { recordAudit } from '../audit/audit-service.ts';
import { inTransaction, type ServiceContext } from '../context.ts';
import { Conflict, NotFound, ValidationFailed, type FieldErrors } from '../errors.ts';
import { getSettings, writeSettings, type Settings } from '../settings/settings-service.ts';
import { requiredText } from '../validation.ts';
import { assertAdmin, writeOrConflict } from '../admin/admin-support.ts';

type Db = Knex | Knex.Transaction;

/** Longest body an admin may write (the column is TEXT: 65,535 bytes, up to 4 per character). */
export const BODY_MAX = 16_000;
const SUBJECT_MAX = 255;
const SUBJECT_TOKEN = /\[#\{\{\s*ticket\.number\s*\}\}\]/;

export const MailTemplateInput = z.object({
  subject: requiredText(SUBJECT_MAX, 'Subject').refine((s) => !/[\p{Cc}\u2028\u2029]/u.test(s), 'Subject: one line, without line breaks or tabs'),
  body: z.preprocess((v) => (typeof v === 'string' ? v.replace(/\r\n?/g, '\n') : v), requiredText(BODY_MAX, 'Body')),
});
export type MailTemplateInput = Partial<z.input<typeof MailTemplateInput>>;

export interface MailTemplateSummary {
  name: string;
  label: string;
  when: string;
  audience: string;
  isCustomised: boolean;
  updatedAt: Date | null;
}

export interface MailTemplatePage extends MailTemplateSummary {
  placeholders: { key: string; about: string }[];
  requiredInBody: string[];
  subjectToken: boolean;
  /** What the form shows: the admin's text, else the built-in wording in placeholder syntax. */
  values: { subject: string; body: string };
  starter: { subject: string; body: string };
  /** The built-in template as sent, with sample data. */
  builtIn: RenderedMail;
  /** The mail as it is sent now (the admin's text, else the built-in one), with sample data. */
  current: RenderedMail;
  /** Why a stored text is not used (it no longer passes the checks, e.g. after an upgrade): the built-in one is sent. */
  problem: string | null;
}

/** @throws NotFound */
function specOf(name: string): MailTemplateSpec {
  const spec = mailTemplateSpec(name);
  if (!spec) throw new NotFound('There is no such email template.', 'MAIL_TEMPLATE_NOT_FOUND');
  return spec;
}

/** The admin's text checked against the notification's rules; every problem at once. @throws ValidationFailed */
function checkText(spec: MailTemplateSpec, raw: MailTemplateInput): { subject: string; body: string; parsed: CustomMailText } {
  const result = MailTemplateInput.safeParse(raw ?? {});
  const errors: FieldErrors = {};
  if (!result.success) for (const issue of result.error.issues) errors[String(issue.path[0])] ??= issue.message;
  const allowed = new Set(spec.placeholders.map((p) => p.key));
  const parsed: Partial<Record<'subject' | 'body', Segment[]>> = {};
  for (const field of ['subject', 'body'] as const) {
    if (errors[field] || !result.data) continue;
    const p = parsePlaceholders(result.data[field], allowed);
    if (p.ok) parsed[field] = p.segments;
    else errors[field] = p.error;
  }
  if (parsed.body) {
    const missing = spec.requiredInBody.filter((k) => !usedKeys(parsed.body!).has(k));
    if (missing.length) errors.body = `Keep ${missing.map((k) => `{{${k}}}`).join(' and ')} in the body: the mail is sent to deliver it.`;
  }
  if (parsed.subject && spec.subjectToken && !SUBJECT_TOKEN.test(result.data!.subject)) {
    errors.subject = 'Keep “[#{{ticket.number}}]” in the subject: a reply by email whose headers were lost is matched to its ticket by it.';
  }
  if (Object.keys(errors).length) throw new ValidationFailed(errors);
  return { subject: result.data!.subject, body: result.data!.body, parsed: { spec, subject: parsed.subject!, body: parsed.body! } };
}

// ## Rendering: the customised texts, per process and per version

const textsCache = versionCache<Map<string, CustomMailText>>(() => new Map());

/**
 * The admin's wording of `name`, or null for the built-in one: read once per `mail_templates_version`
 * in each process ('' = nothing was ever customised: null, without a read). A stored text that no
 * longer passes the checks (a placeholder retired by an upgrade) is skipped: the built-in one is sent.
 */
export async function customMailText(db: Db, settings: Pick<Settings, 'mail_templates_version'>, name: string): Promise<CustomMailText | null> {
  const texts = await textsCache(settings.mail_templates_version, () => readCustomTexts(db));
  return texts.get(name) ?? null;
}

async function readCustomTexts(db: Db): Promise<Map<string, CustomMailText>> {
  const rows: { name: string; subject: string; body: string }[] = await db('mail_templates').select('name', 'subject', 'body');
  const out = new Map<string, CustomMailText>();
  for (const r of rows) {
    const spec = mailTemplateSpec(r.name);
    if (!spec) continue;
    try {
      out.set(r.name, checkText(spec, r).parsed);
    } catch {
      /* skipped: see customMailText */
    }
  }
  return out;
}

/** Every change tells every process to read the texts again (see the module comment). */
async function mailTemplatesChanged(trx: Db, now: Date): Promise<void> {
  await writeSettings(trx, { mail_templates_version: crypto.randomUUID() }, now);
}

// ## Admin

/** Every editable notification, with whether it is customised. @throws Forbidden */
export async function listMailTemplates(ctx: ServiceContext): Promise<MailTemplateSummary[]> {
  assertAdmin(ctx);
  const rows: { name: string; updated_at: unknown }[] = await ctx.db('mail_templates').select('name', 'updated_at');
  const stored = new Map(rows.map((r) => [r.name, dbDate(r.updated_at)]));
  return MAIL_TEMPLATES.map((s) => ({ name: s.name, label: s.label, when: s.when, audience: s.audience, isCustomised: stored.has(s.name), updatedAt: stored.get(s.name) ?? null }));
}

/** One notification's edit page. @throws Forbidden, NotFound */
export async function getMailTemplate(ctx: ServiceContext, name: string): Promise<MailTemplatePage> {
  assertAdmin(ctx);
  const spec = specOf(name);
  const [row, settings] = await Promise.all([ctx.db('mail_templates').where({ name }).first('subject', 'body', 'updated_at'), getSettings(ctx.db)]);
  const vars = sampleVars(spec, { helpdeskName: settings.helpdesk_name, publicUrl: ctx.publicUrl });
  const builtIn = await renderMail(name, vars);
  let current = builtIn;
  let problem: string | null = null;
  try {
    if (row) current = renderCustomMail(checkText(spec, row).parsed, vars);
  } catch (err) {
    if (!(err instanceof ValidationFailed)) throw err;
    problem = `The saved text is not used (the built-in one is sent): ${Object.values(err.fields).join(' ')}`;
  }
  return {
    name, label: spec.label, when: spec.when, audience: spec.audience, isCustomised: !!row, updatedAt: row ? dbDate(row.updated_at) : null,
    placeholders: spec.placeholders.map((p) => ({ key: p.key, about: p.about })), requiredInBody: spec.requiredInBody, subjectToken: spec.subjectToken,
    values: row ? { subject: row.subject, body: row.body } : { ...spec.starter }, starter: spec.starter, builtIn, current, problem,
  };
}

/** The mail `raw` would make, with sample data (nothing is saved). @throws Forbidden, NotFound, ValidationFailed */
export async function previewMailTemplate(ctx: ServiceContext, name: string, raw: MailTemplateInput): Promise<RenderedMail> {
  assertAdmin(ctx);
  const spec = specOf(name);
  const { parsed } = checkText(spec, raw);
  const settings = await getSettings(ctx.db);
  return renderCustomMail(parsed, sampleVars(spec, { helpdeskName: settings.helpdesk_name, publicUrl: ctx.publicUrl }));
}

/** Saves the admin's wording of `name` (audited, before/after). @throws Forbidden, NotFound, ValidationFailed, Conflict */
export async function saveMailTemplate(ctx: ServiceContext, name: string, raw: MailTemplateInput): Promise<void> {
  assertAdmin(ctx);
  const spec = specOf(name);
  const { subject, body } = checkText(spec, raw);
  await writeOrConflict(() => inTransaction(ctx, async (trx) => {
    const now = toDbDate(ctx.clock());
    const was = await trx('mail_templates').where({ name }).first('id', 'subject', 'body');
    let id = was?.id as number | undefined;
    if (was) await trx('mail_templates').where({ id }).update({ subject, body, updated_at: now });
    else [id] = await trx('mail_templates').insert({ name, subject, body, created_at: now, updated_at: now });
    await mailTemplatesChanged(trx, ctx.clock());
    await recordAudit(ctx, trx, {
      action: 'mail_template.update', entity: 'mail_template', entityId: id,
      before: was ? { name, subject: was.subject, body: was.body } : { name, builtIn: true }, after: { name, subject, body },
    });
  }), () => new Conflict('Someone saved this template at the same moment; reload the page and try again.', 'CONCURRENT_EDIT'));
}

/** Back to the built-in text (audited with the text that was dropped); nothing to do when not customised. @throws Forbidden, NotFound */
export async function resetMailTemplate(ctx: ServiceContext, name: string): Promise<void> {
  assertAdmin(ctx);
  specOf(name);
  await inTransaction(ctx, async (trx) => {
    const was = await trx('mail_templates').where({ name }).first('id', 'subject', 'body');
    if (!was) return;
    await trx('mail_templates').where({ id: was.id }).delete();
    await mailTemplatesChanged(trx, ctx.clock());
    await recordAudit(ctx, trx, { action: 'mail_template.reset', entity: 'mail_template', entityId: was.id, before: { name, subject: was.subject, body: was.body }, after: { name, builtIn: true } });
  });
}
