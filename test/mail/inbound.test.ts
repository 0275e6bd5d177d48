import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { buildAgent, buildDepartment } from '../factories/index.ts';
import { writeSettings } from '../../src/domain/settings/settings-service.ts';
import { processInboundMail, INBOUND_PER_SENDER_PER_HOUR } from '../../src/domain/mail/inbound-service.ts';
import { startInboundSmtp } from '../../src/mail/inbound-smtp.ts';
import { deliverOutbox } from '../../src/mail/outbox-worker.ts';
import { createSmtpTransport } from '../../src/mail/mail-transport.ts';
import { createLogger } from '../../src/logger.ts';
import { dbDate, toDbDate } from '../../src/db/dialect.ts';
import { replyToTicket } from '../../src/domain/tickets/ticket-agent-service.ts';
import { cliCommands } from '../../src/cli/cli-commands.ts';
import { sendTo, startSmtpSink, type SmtpSink } from './mail-support.ts';

const root = path.resolve(__dirname, '../..');

describe('inbound mail: SMTP listener, pipe command, one pipeline', () => {
  let t: TestApp;
  let sink: SmtpSink;
  let listener: { port: number; close: () => Promise<void> };
  let billing: number;
  let agentEmail: string;

  const deliver = async () => {
    const transport = createSmtpTransport(sink.url);
    try {
      await deliverOutbox({ db: t.db, clock: t.clock, transport, from: 'helpdesk@helpdesk.test' });
    } finally {
      transport.close();
    }
  };
  const autoresponseFor = (ticketId: number) => t.db('outbox').where({ ticket_id: ticketId, template: 'ticket-autoresponse' }).first();
  const pipe = (raw: string | Buffer) => {
    const url = t.config.database.client === 'sqlite' ? `sqlite:${t.config.database.filename}` : t.config.database.url;
    return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'mail:pipe'], {
      cwd: root, input: raw, encoding: 'utf8', timeout: 55_000,
      env: { ...process.env, DATABASE_URL: url, NODE_ENV: 'test', SESSION_SECRET: 'x'.repeat(40), LOG_LEVEL: 'silent', PUBLIC_URL: 'http://helpdesk.test' },
    });
  };

  beforeAll(async () => {
    t = await startTestApp({ now: new Date() });
    sink = await startSmtpSink();
    await writeSettings(t.db, { inbound_address: 'support@helpdesk.test' }, t.clock());
    billing = await buildDepartment(t.db, { email_address: 'billing@helpdesk.test', email_name: 'Billing' });
    agentEmail = (await buildAgent(t.db, { department_id: billing })).email;
    listener = await startInboundSmtp({ db: t.db, clock: t.clock, publicUrl: 'http://helpdesk.test', logger: createLogger(t.config), port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await listener.close();
    await sink.close();
    await t.close();
  });

  it('a new mail to a department address opens a ticket there; the reply by email threads into it (SMTP listener)', async () => {
    await sendTo(listener.port, { from: 'Erin <erin@customer.test>', to: 'billing@helpdesk.test', subject: 'Invoice wrong', text: 'My invoice is wrong.', messageId: '<first.erin@customer.test>' });
    const ticket = await t.db('tickets').where({ subject: 'Invoice wrong' }).first();
    expect(ticket).toMatchObject({ source: 'email', department_id: billing });
    const entry = await t.db('thread_entries').where({ ticket_id: ticket.id }).first();
    expect(entry).toMatchObject({ body: 'My invoice is wrong.', message_id: '<first.erin@customer.test>', source: 'email' });
    // Our auto-response answers the user's message and is delivered to the user.
    const auto = await autoresponseFor(ticket.id);
    expect(JSON.parse(auto.headers)['In-Reply-To']).toBe('<first.erin@customer.test>');
    await deliver();
    const got = sink.received.find((m) => m.parsed.messageId === auto.message_id)!.parsed;
    expect(got.subject).toBe(`[#${ticket.number}] Invoice wrong`);
    expect(got.inReplyTo).toBe('<first.erin@customer.test>');
    // The user answers it, with the quoted history below and an attachment.
    await t.db('tickets').where({ id: ticket.id }).update({ status: 'closed', state: 'closed', closed_at: toDbDate(t.clock()) });
    await sendTo(listener.port, {
      from: 'erin@customer.test', to: 'support@helpdesk.test', subject: `Re: ${got.subject}`, messageId: '<second.erin@customer.test>',
      inReplyTo: got.messageId, references: [got.messageId!],
      text: `Here is the PDF.\n\nOn Mon, 2 Mar 2026 at 10:00, Help Desk <helpdesk@helpdesk.test> wrote:\n> Thank you for contacting us.\n> ticket #${ticket.number}`,
      attachments: [{ filename: 'invoice.pdf', content: Buffer.from('%PDF-1.4 fake'), contentType: 'application/pdf' }, { filename: 'evil.exe', content: Buffer.from('MZ') }],
    });
    const entries = await t.db('thread_entries').where({ ticket_id: ticket.id }).orderBy('id');
    expect(entries).toHaveLength(2);
    expect(entries[1].body).toContain('Here is the PDF.');
    expect(entries[1].body).not.toContain('Thank you for contacting us');
    expect(entries[1].body).toContain('"evil.exe" was not kept');
    expect(entries[1]).toMatchObject({ kind: 'message', source: 'email', message_id: '<second.erin@customer.test>' });
    expect(await t.db('attachments').where({ entry_id: entries[1].id }).pluck('filename')).toEqual(['invoice.pdf']);
    // Reopened per the setting; the department's agent is alerted.
    expect((await t.db('tickets').where({ id: ticket.id }).first()).state).toBe('open');
    expect(await t.db('outbox').where({ ticket_id: ticket.id, template: 'new-message-alert', to_address: agentEmail })).toHaveLength(1);
    expect((await t.db('inbound_messages').where({ message_id: '<second.erin@customer.test>' }).first()).outcome).toBe('threaded');
  });

  it('a ticket waiting on the requester: an out-of-office answer leaves it waiting, their real answer by email ends the wait', async () => {
    await sendTo(listener.port, { from: 'Gil <gil@customer.test>', to: 'billing@helpdesk.test', subject: 'Refund missing', text: 'No refund yet.', messageId: '<first.gil@customer.test>' });
    const ticket = await t.db('tickets').where({ subject: 'Refund missing' }).first();
    expect(ticket.sla_due_at).not.toBeNull(); // the default plan applies
    const agent = await buildAgent(t.db, { department_id: billing });
    await replyToTicket(t.ctx(agent.actor), { ticketId: ticket.id, message: 'Which card did you pay with?', status: 'pending' });
    expect(await t.db('tickets').where({ id: ticket.id }).first()).toMatchObject({ status: 'pending' });
    await deliver();
    const response = await t.db('outbox').where({ ticket_id: ticket.id, template: 'agent-response' }).first();
    const got = sink.received.find((m) => m.parsed.messageId === response.message_id)!.parsed;
    t.clock.advance(30 * 60_000);
    // An automatic answer is not the requester's: the ticket keeps waiting, its SLA clock stopped.
    await sendTo(listener.port, {
      from: 'gil@customer.test', to: 'support@helpdesk.test', subject: `Automatic reply: ${got.subject}`, text: 'I am on leave.',
      inReplyTo: got.messageId, references: [got.messageId!], headers: { 'Auto-Submitted': 'auto-replied' },
    });
    let row = await t.db('tickets').where({ id: ticket.id }).first();
    expect(row.status).toBe('pending');
    expect(row.sla_paused_at).not.toBeNull();
    // Their answer threads in and ends the wait: open again, the half hour waited added to the SLA.
    await sendTo(listener.port, {
      from: 'gil@customer.test', to: 'support@helpdesk.test', subject: `Re: ${got.subject}`, text: 'The Visa ending 4242.', messageId: '<second.gil@customer.test>',
      inReplyTo: got.messageId, references: [got.messageId!],
    });
    row = await t.db('tickets').where({ id: ticket.id }).first();
    expect(row).toMatchObject({ status: 'open', state: 'open', waiting_since: null, sla_paused_at: null, sla_paused_seconds: 1800 });
    expect(dbDate(row.sla_due_at)!.getTime() - dbDate(ticket.sla_due_at)!.getTime()).toBe(30 * 60_000);
    const last = await t.db('ticket_events').where({ ticket_id: ticket.id }).orderBy('id', 'desc').first();
    expect(last.event).toBe('status_changed');
    expect(JSON.parse(last.data)).toMatchObject({ from: 'pending', to: 'open', by: 'user_reply' });
  });

  it('the same message delivered twice (same Message-ID) is stored once', async () => {
    const raw = Buffer.from('From: dup@customer.test\r\nTo: support@helpdesk.test\r\nSubject: Twice\r\nMessage-ID: <dup.1@customer.test>\r\n\r\nOnce only.\r\n');
    await sendTo(listener.port, { envelope: { from: 'dup@customer.test', to: ['support@helpdesk.test'] }, raw });
    await sendTo(listener.port, { envelope: { from: 'dup@customer.test', to: ['support@helpdesk.test'] }, raw });
    const again = await processInboundMail(t.ctx(), raw, 'api');
    expect(again).toMatchObject({ outcome: 'ignored', reason: 'duplicate' });
    const both = await Promise.all([processInboundMail(t.ctx(), Buffer.from(raw.toString().replace('dup.1', 'dup.2')), 'smtp'), processInboundMail(t.ctx(), Buffer.from(raw.toString().replace('dup.1', 'dup.2')), 'imap')]);
    expect(both.map((r) => r.outcome).sort()).toEqual(['created', 'ignored']);
    expect(await t.db('tickets').where({ subject: 'Twice' })).toHaveLength(2);
    expect(await t.db('inbound_messages').whereIn('message_id', ['<dup.1@customer.test>', '<dup.2@customer.test>'])).toHaveLength(2);
    // Without a Message-ID, a hash of the message stands in for it.
    const noId = Buffer.from('From: noid@customer.test\r\nSubject: No id\r\n\r\nBody\r\n');
    expect((await processInboundMail(t.ctx(), noId, 'pipe')).outcome).toBe('created');
    expect(await processInboundMail(t.ctx(), noId, 'pipe')).toMatchObject({ outcome: 'ignored', reason: 'duplicate' });
  });

  it('an auto-responder answering our auto-response gets no answer back, and does not touch the ticket', async () => {
    await sendTo(listener.port, { from: 'ooo@customer.test', to: 'support@helpdesk.test', subject: 'Need help', text: 'Help me', messageId: '<q.ooo@customer.test>' });
    const ticket = await t.db('tickets').where({ subject: 'Need help' }).first();
    await deliver();
    const auto = await autoresponseFor(ticket.id);
    const outboxBefore = (await t.db('outbox')).length;
    await sendTo(listener.port, {
      from: 'ooo@customer.test', to: 'support@helpdesk.test', subject: `Out of office: [#${ticket.number}] Need help`, text: 'I am away.',
      inReplyTo: auto.message_id, references: [auto.message_id], headers: { 'Auto-Submitted': 'auto-replied' },
    });
    expect(await t.db('thread_entries').where({ ticket_id: ticket.id })).toHaveLength(1);
    expect((await t.db('outbox')).length).toBe(outboxBefore);
    // A first message from a machine opens a ticket but gets no auto-response.
    const r = await processInboundMail(t.ctx(), Buffer.from('From: monitor@customer.test\r\nSubject: Disk full\r\nPrecedence: bulk\r\nMessage-ID: <m1@mon>\r\n\r\n/var is full\r\n'), 'api');
    expect(r.outcome).toBe('created');
    expect(await t.db('outbox').where({ ticket_id: r.ticketId, to_address: 'monitor@customer.test' })).toHaveLength(0);
    // Our own message coming back is a loop, not a ticket.
    const loop = await processInboundMail(t.ctx(), Buffer.from(`From: helpdesk@helpdesk.test\r\nMessage-ID: ${auto.message_id}\r\nSubject: x\r\n\r\nx\r\n`), 'smtp');
    expect(loop).toMatchObject({ outcome: 'ignored', reason: 'own_message' });
  });

  it('bounces are ignored; banned and flooding senders are refused at SMTP time', async () => {
    const tickets = (await t.db('tickets')).length;
    await sendTo(listener.port, { envelope: { from: '', to: ['support@helpdesk.test'] } as any, raw: 'From: MAILER-DAEMON@mx.test\r\nSubject: Undelivered Mail Returned to Sender\r\n\r\nbounce\r\n' });
    expect((await t.db('tickets')).length).toBe(tickets);
    expect((await t.db('inbound_messages').where({ reason: 'bounce' })).length).toBe(1);
    await t.db('bans').insert({ pattern: '@spam.test', created_at: toDbDate(t.clock()) });
    await expect(sendTo(listener.port, { from: 'x@spam.test', to: 'support@helpdesk.test', subject: 'Buy', text: 'now' })).rejects.toMatchObject({ responseCode: 550 });
    for (let i = 0; i < INBOUND_PER_SENDER_PER_HOUR; i++) await t.db('inbound_messages').insert({ message_id: `<flood${i}@x>`, from_address: 'flood@customer.test', channel: 'smtp', outcome: 'ignored', received_at: toDbDate(t.clock()) });
    await expect(sendTo(listener.port, { from: 'flood@customer.test', to: 'support@helpdesk.test', subject: 'Again', text: 'again' })).rejects.toMatchObject({ responseCode: 550 });
    expect((await t.db('tickets')).length).toBe(tickets);
  });

  it('a subject token threads only from the requester; anyone else opens a new ticket', async () => {
    const first = await processInboundMail(t.ctx(), Buffer.from('From: owner@customer.test\r\nSubject: Printer\r\nMessage-ID: <p1@c>\r\n\r\nBroken\r\n'), 'api');
    const other = await processInboundMail(t.ctx(), Buffer.from(`From: mallory@evil.test\r\nSubject: Re: [#${first.ticketNumber}] Printer\r\nMessage-ID: <p2@e>\r\n\r\nLet me in\r\n`), 'api');
    expect(other.outcome).toBe('created');
    expect(other.ticketId).not.toBe(first.ticketId);
    const own = await processInboundMail(t.ctx(), Buffer.from(`From: Owner <OWNER@customer.test>\r\nSubject: Re: [#${first.ticketNumber}] Printer\r\nMessage-ID: <p3@c>\r\n\r\nStill broken\r\n`), 'api');
    expect(own).toMatchObject({ outcome: 'threaded', ticketId: first.ticketId, reason: 'subject_token' });
    // An agent answering an alert by email is refused (they answer in the panel).
    const ours = await autoresponseFor(first.ticketId!);
    const agent = await processInboundMail(t.ctx(), Buffer.from(`From: ${agentEmail}\r\nIn-Reply-To: ${ours.message_id}\r\nSubject: Re\r\nMessage-ID: <p4@a>\r\n\r\nok\r\n`), 'api');
    expect(agent).toMatchObject({ outcome: 'rejected', reason: 'agent_reply_by_email' });
    // Someone else holding our Message-ID (a Cc'd colleague) is threaded, with who sent it.
    const cc = await processInboundMail(t.ctx(), Buffer.from(`From: Colleague <colleague@customer.test>\r\nReferences: <unknown@x> ${ours.message_id}\r\nSubject: Re\r\nMessage-ID: <p5@c>\r\n\r\nSame here\r\n`), 'api');
    expect(cc).toMatchObject({ outcome: 'threaded', ticketId: first.ticketId, reason: 'headers' });
    const last = await t.db('thread_entries').where({ ticket_id: first.ticketId }).orderBy('id', 'desc').first();
    expect(last.body).toBe('Received from: Colleague <colleague@customer.test>\n\nSame here');
  });

  it('mail:pipe reads one message from standard input and threads a reply (exit 0), refuses a banned sender (exit 77)', async () => {
    const first = await processInboundMail(t.ctx(), Buffer.from('From: piper@customer.test\r\nSubject: VPN\r\nMessage-ID: <v1@c>\r\n\r\nVPN down\r\n'), 'api');
    const auto = await autoresponseFor(first.ticketId!);
    const reply = `From: =?UTF-8?B?UGnDqXI=?= <piper@customer.test>\r\nTo: support@helpdesk.test\r\nSubject: =?UTF-8?Q?Re:_=C3=A9t=C3=A9?=\r\nMessage-ID: <v2@c>\r\nIn-Reply-To: ${auto.message_id}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nÇa marche encore pas.\r\n`;
    const r = pipe(Buffer.from(reply, 'utf8'));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`threaded #${first.ticketNumber}`);
    const last = await t.db('thread_entries').where({ ticket_id: first.ticketId }).orderBy('id', 'desc').first();
    expect(last).toMatchObject({ body: 'Ça marche encore pas.', source: 'email', message_id: '<v2@c>' });
    const banned = pipe('From: y@spam.test\r\nSubject: x\r\n\r\nx\r\n');
    expect(banned.status).toBe(77);
    // Malformed input (no sender) → 65, in process with the same command.
    const out: string[] = [];
    const io = { out: (x: string) => out.push(x), err: (x: string) => out.push(x), readStdin: async () => '', prompt: async () => '', readStdinBytes: async () => Buffer.from('not a mail') };
    expect(await cliCommands['mail:pipe'].run({ ctx: t.ctx(), db: t.db, config: t.config, values: {}, io })).toBe(65);
    expect(out.join('')).toContain('rejected (no_sender)');
  }, 120_000);
});
