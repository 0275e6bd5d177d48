/** The placeholder syntax of editable mail templates, and the catalogue of notifications against views/mail. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fillHtml, fillText, parsePlaceholders, type Segment } from '../../src/mail/mail-placeholders.ts';
import { MAIL_TEMPLATES, placeholderValues, sampleVars } from '../../src/mail/mail-template-catalog.ts';
import { renderCustomMail, renderMail } from '../../src/mail/mail-render.ts';
import { projectRoot } from '../../src/paths.ts';

const allowed = new Set(['ticket.number', 'recipient.name', 'ticket.url', 'message']);
const parse = (s: string) => parsePlaceholders(s, allowed);
const segments = (s: string): Segment[] => {
  const p = parse(s);
  if (!p.ok) throw new Error(p.error);
  return p.segments;
};

describe('placeholder syntax', () => {
  it('cuts text into literal pieces and names, with spaces inside the braces allowed', () => {
    expect(segments('Dear {{recipient.name}}, ticket #{{ ticket.number }}.')).toEqual([
      { text: 'Dear ' }, { key: 'recipient.name' }, { text: ', ticket #' }, { key: 'ticket.number' }, { text: '.' },
    ]);
    expect(segments('single { and } braces are text')).toEqual([{ text: 'single { and } braces are text' }]);
  });

  it('refuses unknown names, listing them and the ones that work', () => {
    const p = parse('Hi {{user.password}} and {{ticket.number}} and {{evil}}');
    expect(p.ok).toBe(false);
    if (!p.ok) {
      expect(p.error).toContain('{{user.password}}');
      expect(p.error).toContain('{{evil}}');
      expect(p.error).toContain('{{recipient.name}}');
    }
  });

  it.each([
    ['an unclosed {{', 'Dear {{recipient.name'],
    ['a stray }}', 'Dear recipient.name}}'],
    ['code inside the braces', "{{ process.exit() }}"],
    ['EJS-looking text', '{{<%= 7*7 %>}}'],
    ['triple braces', '{{{ticket.number}}}'],
    ['an empty placeholder', '{{ }}'],
    ['upper case', '{{Ticket.Number}}'],
  ])('refuses %s', (_what, text) => {
    expect(parse(text).ok).toBe(false);
  });

  it('substitutes values as plain text: a value that looks like a placeholder or EJS stays as it is', () => {
    const s = segments('{{recipient.name}} / {{message}}');
    expect(fillText(s, { 'recipient.name': '{{ticket.url}}', message: '<%= process.env %>' })).toBe('{{ticket.url}} / <%= process.env %>');
  });

  it('escapes every piece in HTML, keeps line breaks, and links only the help desk’s links and the admin’s own addresses', () => {
    const s = segments('Hi <b>{{recipient.name}}</b>\nsee {{ticket.url}} or https://example.com/help.\n{{message}}');
    const html = fillHtml(s, {
      'recipient.name': '<script>alert(1)</script>', 'ticket.url': 'http://helpdesk.test/tickets/access?token=a&b', message: 'visit http://evil.test/"onmouseover=x',
    }, new Set(['ticket.url']));
    expect(html).toContain('Hi &lt;b&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;/b&gt;<br>');
    expect(html).toContain('<a href="http://helpdesk.test/tickets/access?token=a&amp;b">http://helpdesk.test/tickets/access?token=a&amp;b</a>');
    expect(html).toContain('<a href="https://example.com/help">https://example.com/help</a>.');
    expect(html).toContain('visit http://evil.test/&quot;onmouseover=x');
    expect(html).not.toContain('href="http://evil');
    expect(html).not.toMatch(/<script|<b>/);
  });

  it('does not link a "link" value that is not an http(s) address', () => {
    expect(fillHtml(segments('{{ticket.url}}'), { 'ticket.url': 'javascript:alert(1)' }, new Set(['ticket.url']))).toBe('javascript:alert(1)');
  });
});

describe('the catalogue of editable notifications', () => {
  const base = { helpdeskName: 'Acme Help', publicUrl: 'http://helpdesk.test' };

  it('covers every notification of views/mail', () => {
    const files = fs.readdirSync(path.join(projectRoot, 'views/mail')).filter((f) => f.endsWith('.txt.ejs')).map((f) => f.replace('.txt.ejs', ''));
    expect(MAIL_TEMPLATES.map((t) => t.name).sort()).toEqual(files.sort());
  });

  it.each(MAIL_TEMPLATES.map((t) => [t.name, t] as const))('%s: its starting text parses, keeps what it must, and says what the built-in template says', async (_name, spec) => {
    const keys = new Set(spec.placeholders.map((p) => p.key));
    expect(keys.size, 'one meaning per key').toBe(spec.placeholders.length);
    const subject = parsePlaceholders(spec.starter.subject, keys);
    const body = parsePlaceholders(spec.starter.body, keys);
    if (!subject.ok || !body.ok) throw new Error(`${spec.name}: ${!subject.ok ? subject.error : ''} ${!body.ok ? body.error : ''}`);
    for (const k of spec.requiredInBody) expect(keys.has(k), k).toBe(true);
    if (spec.subjectToken) expect(spec.starter.subject).toContain('[#{{ticket.number}}]');
    // Same words as the EJS template with the same variables (layout whitespace aside): the form starts from the real default.
    const vars = sampleVars(spec, base);
    const builtIn = await renderMail(spec.name, vars);
    const custom = renderCustomMail({ spec, subject: subject.segments, body: body.segments }, vars);
    const words = (s: string) => s.replace(/\s+/g, ' ').trim();
    expect(custom.subject).toBe(builtIn.subject);
    expect(words(custom.text)).toBe(words(builtIn.text));
    // Every placeholder has a sample value (a preview never shows an empty one by mistake), but the optional lines.
    const empty = Object.entries(placeholderValues(spec, vars)).filter(([, v]) => v === '').map(([k]) => k);
    expect(empty.filter((k) => k !== 'recipient.reason' && k !== 'closed.reason')).toEqual([]);
  });

  it('ticket-closed: {{closed.reason}} says why a ticket that waited on the requester was closed, built in or reworded', async () => {
    const spec = MAIL_TEMPLATES.find((t) => t.name === 'ticket-closed')!;
    const keys = new Set(spec.placeholders.map((p) => p.key));
    const vars = { ...sampleVars(spec, base), status: 'closed', waitedDays: 7 };
    const line = 'We asked you a question on it and have not heard back for 7 days.';
    expect((await renderMail('ticket-closed', vars)).text).toContain(line);
    const body = parsePlaceholders('Closed. {{closed.reason}}', keys);
    if (!body.ok) throw new Error(body.error);
    const subject = parsePlaceholders('[#{{ticket.number}}] closed', keys);
    if (!subject.ok) throw new Error(subject.error);
    expect(renderCustomMail({ spec, subject: subject.segments, body: body.segments }, vars).text).toContain(line);
    expect(renderCustomMail({ spec, subject: subject.segments, body: body.segments }, { ...vars, waitedDays: 0 }).text).not.toContain('heard back');
  });
});
