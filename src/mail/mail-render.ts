/**
 * Renders mail templates from views/mail: `<name>.txt.ejs` (required; its first line is
 * "Subject: …", then a blank line, then the body) and `<name>.html.ejs` (optional HTML part).
 * Everything is escaped by EJS; subjects are folded to one line so no header can be injected.
 * A notification an admin reworded (Admin → Email templates) is rendered from that text instead:
 * placeholders filled as plain text (mail-placeholders.ts), the HTML part being the escaped text
 * inside the usual header and footer.
 */
import fs from 'node:fs';
import path from 'node:path';
import ejs from 'ejs';
import { projectRoot } from '../paths.ts';
import { fillHtml, fillText, type Segment } from './mail-placeholders.ts';
import { linkKeys, placeholderValues, type MailTemplateSpec } from './mail-template-catalog.ts';

const viewsDir = path.join(projectRoot, 'views');
const mailDir = path.join(viewsDir, 'mail');

export interface RenderedMail {
  subject: string;
  text: string;
  html: string | null;
}

/** One line, no control characters, at most 255 characters (header injection is impossible). */
export function oneLine(s: string, max = 255): string {
  return String(s ?? '').replace(/[\r\n\t\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim().slice(0, max);
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** HTML-escapes text and keeps its line breaks as <br> (for message bodies in the HTML part). */
export function nl2br(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]).replace(/\r?\n/g, '<br>\n');
}

/** Plain text part: EJS escaping would turn & into &amp;, so the text part is rendered unescaped. */
const unescaped = (s: unknown) => String(s ?? '');

/**
 * Compiled templates by file (null: no such file). Compiling a template (and reading it and its
 * includes from disk) cost more CPU than the rest of a ticket creation (bench/ profile), so each file
 * is compiled once per process; templates change only with a deploy, which restarts the process.
 * The text and HTML templates never include each other's partials, so their escape options never mix.
 */
const compiled = new Map<string, ejs.TemplateFunction | null>();

function template(file: string, escape?: (s: unknown) => string): ejs.TemplateFunction | null {
  let fn = compiled.get(file);
  if (fn === undefined) {
    fn = fs.existsSync(file) ? ejs.compile(fs.readFileSync(file, 'utf8'), { filename: file, root: viewsDir, cache: true, ...(escape ? { escape } : {}) }) : null;
    compiled.set(file, fn);
  }
  return fn;
}

/** An admin's wording of a notification, parsed (mail-template-service.ts checked it against the spec). */
export interface CustomMailText {
  spec: MailTemplateSpec;
  subject: Segment[];
  body: Segment[];
}

/**
 * Renders a reworded notification: values substituted as text, never evaluated; the subject folded to
 * one line; the HTML part escaped, in the header and footer every mail has.
 */
export function renderCustomMail(custom: CustomMailText, vars: Record<string, unknown>): RenderedMail {
  const values = placeholderValues(custom.spec, vars);
  const header = template(path.join(mailDir, '_header.html.ejs'));
  const footer = template(path.join(mailDir, '_footer.html.ejs'));
  const html = header && footer ? `${header(vars)}<p>${fillHtml(custom.body, values, linkKeys(custom.spec))}</p>\n${footer(vars)}` : null;
  return { subject: oneLine(fillText(custom.subject, values)), text: fillText(custom.body, values).trim() + '\n', html };
}

/** Renders `name` from views/mail, or from the admin's wording when `custom` is given. */
export async function renderMail(name: string, vars: Record<string, unknown>, custom?: CustomMailText | null): Promise<RenderedMail> {
  if (custom) return renderCustomMail(custom, vars);
  const txtTemplate = template(path.join(mailDir, `${name}.txt.ejs`), unescaped);
  if (!txtTemplate) throw new Error(`mail template ${name} does not exist`);
  const txt = txtTemplate(vars);
  const m = /^Subject:\s*(.*)\r?\n\r?\n?/.exec(txt);
  if (!m) throw new Error(`mail template ${name} lacks a Subject line`);
  const htmlTemplate = template(path.join(mailDir, `${name}.html.ejs`));
  const html = htmlTemplate ? htmlTemplate({ ...vars, nl2br }) : null;
  return { subject: oneLine(m[1]), text: txt.slice(m[0].length).trim() + '\n', html };
}
