/** A corpus of awkward real-world messages: every one is filed or refused with a reason, none crashes. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { processInboundMail, type InboundResult } from '../../src/domain/mail/inbound-service.ts';
import { startInboundSmtp } from '../../src/mail/inbound-smtp.ts';
import { createLogger } from '../../src/logger.ts';
import { writeSettings } from '../../src/domain/settings/settings-service.ts';
import { sendTo } from './mail-support.ts';

const dir = path.resolve(__dirname, '../fixtures/mail');

/** Expected outcome per fixture, and what the ticket must show. */
const expected: Record<string, { outcome: InboundResult['outcome']; reason?: string; subject?: string; body?: string[]; notBody?: string[]; files?: string[]; autoresponse?: boolean }> = {
  'outlook-reply.eml': { outcome: 'created', body: ['Der Drucker druckt immer noch nicht. Grüße'], autoresponse: true },
  'gmail-reply.eml': { outcome: 'created', body: ["Still can't log in 😞"] },
  'apple-mail-attachment.eml': { outcome: 'created', body: ['See the attached screenshot.'], files: ['screen.png'] },
  'html-only.eml': { outcome: 'created', subject: 'HTML only <script>alert(1)</script>', body: ['First line', 'Second'], notBody: ['<p>', "alert('x')", 'color:red'] },
  'latin1-8bit-headers.eml': { outcome: 'created', body: ['La facturación está mal. ¿Pueden ayudar?'] },
  'encoded-word-subject.eml': { outcome: 'created', subject: '🚀 Launch failed — ログイン できません', body: ['ログインできません 🚀'] },
  'nested-multipart-forward.eml': { outcome: 'created', body: ['Forwarding the original below.'], files: ['original.eml', 'report.pdf'] },
  'bounce-dsn.eml': { outcome: 'ignored', reason: 'bounce' },
  'out-of-office.eml': { outcome: 'created', autoresponse: false },
  'jira-notification.eml': { outcome: 'created', autoresponse: false },
  'no-from.eml': { outcome: 'rejected', reason: 'no_sender' },
  'broken-mime.eml': { outcome: 'created' },
  'no-message-id-unknown-charset.eml': { outcome: 'created', body: ['Plain words.'] },
  'garbage.eml': { outcome: 'rejected', reason: 'no_sender' },
  'long-lines-and-emoji.eml': { outcome: 'created', subject: '🔥🔥 Everything is on fire 🔥🔥', body: ['🙂 end'] },
};

describe('inbound corpus (test/fixtures/mail)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    await writeSettings(t.db, { inbound_address: 'support@helpdesk.test' }, t.clock());
  });
  afterAll(async () => t.close());

  it('has an expectation for every fixture', () => {
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.eml')).sort()).toEqual(Object.keys(expected).sort());
  });

  for (const [file, want] of Object.entries(expected)) {
    it(`${file}: ${want.outcome}${want.reason ? ` (${want.reason})` : ''}`, async () => {
      const raw = fs.readFileSync(path.join(dir, file));
      const r = await processInboundMail(t.ctx(), raw, 'api');
      expect(r.outcome, JSON.stringify(r)).toBe(want.outcome);
      if (want.reason) expect(r.reason).toBe(want.reason);
      const logged = await t.db('inbound_messages').where({ message_id: r.messageId }).first();
      expect(logged.outcome).toBe(want.outcome);
      if (r.outcome !== 'created') return;
      const ticket = await t.db('tickets').where({ id: r.ticketId }).first();
      expect(ticket.source).toBe('email');
      if (want.subject) expect(ticket.subject).toBe(want.subject);
      const entry = await t.db('thread_entries').where({ ticket_id: r.ticketId }).first();
      for (const s of want.body ?? []) expect(entry.body).toContain(s);
      for (const s of want.notBody ?? []) expect(entry.body).not.toContain(s);
      if (want.files) expect((await t.db('attachments').where({ entry_id: entry.id }).pluck('filename')).sort()).toEqual(want.files);
      if (want.autoresponse !== undefined) expect((await t.db('outbox').where({ ticket_id: r.ticketId, template: 'ticket-autoresponse' })).length).toBe(want.autoresponse ? 1 : 0);
      // A second delivery is recognised.
      expect((await processInboundMail(t.ctx(), raw, 'imap')).reason).toBe('duplicate');
    });
  }

  it('the SMTP listener answers every fixture with 250 or 550, never a crash or a temporary failure', async () => {
    const t2 = await startTestApp();
    const listener = await startInboundSmtp({ db: t2.db, clock: t2.clock, publicUrl: 'http://helpdesk.test', logger: createLogger(t2.config), port: 0, host: '127.0.0.1' });
    try {
      for (const [file, want] of Object.entries(expected)) {
        const raw = fs.readFileSync(path.join(dir, file));
        const send = sendTo(listener.port, { envelope: { from: 'relay@mx.test', to: ['support@helpdesk.test'] }, raw });
        if (want.outcome === 'rejected') await expect(send, file).rejects.toMatchObject({ responseCode: 550 });
        else await expect(send, file).resolves.toBeTruthy();
      }
      expect(await t2.db('inbound_messages').count({ n: '*' }).first()).toMatchObject({ n: Object.keys(expected).length });
    } finally {
      await listener.close();
      await t2.close();
    }
  });
});
