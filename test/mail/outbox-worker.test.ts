import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { buildAgent, buildDepartment } from '../factories/index.ts';
import { openTicket } from '../../src/domain/tickets/ticket-service.ts';
import { queueMail } from '../../src/domain/mail/outbox-service.ts';
import { MAX_ATTEMPTS, SENDING_TIMEOUT_MS, backoffMs } from '../../src/domain/mail/outbox-delivery.ts';
import { deliverOutbox, outboxTask } from '../../src/mail/outbox-worker.ts';
import { createSmtpTransport } from '../../src/mail/mail-transport.ts';
import { dbDate, toDbDate } from '../../src/db/dialect.ts';
import { writeSettings } from '../../src/domain/settings/settings-service.ts';
import { createLogger } from '../../src/logger.ts';
import { freePort, header, startSmtpSink, type SmtpSink } from './mail-support.ts';

describe('outbox worker (nodemailer → real SMTP server)', () => {
  let t: TestApp;
  let sink: SmtpSink;
  const run = (url: string, workerId = 'w1') => {
    const transport = createSmtpTransport(url);
    return deliverOutbox({ db: t.db, clock: t.clock, transport, from: 'Help Desk <helpdesk@helpdesk.test>', workerId }).finally(() => transport.close());
  };
  const queued = () => t.db('outbox').where({ status: 'queued' });

  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
    sink = await startSmtpSink();
    await writeSettings(t.db, { inbound_address: 'support@helpdesk.test' }, t.clock());
  });
  afterAll(async () => {
    await sink.close();
    await t.close();
  });

  it('delivers each message once with its stable Message-ID, threading headers, Reply-To and From', async () => {
    const dept = await buildDepartment(t.db, { email_address: 'billing@helpdesk.test', email_name: 'Billing Team' });
    const agent = await buildAgent(t.db, { department_id: dept });
    const res = await openTicket(t.ctx(), { email: 'pat@example.com', name: 'Pat <b>', subject: 'Card declined', message: 'Hello\n<script>x</script>', departmentId: dept });
    const rows = await t.db('outbox').where({ ticket_id: res.id }).orderBy('id');
    expect(rows.length).toBeGreaterThanOrEqual(2);
    const r = await run(sink.url);
    expect(r.sent).toBeGreaterThanOrEqual(2);
    expect(await queued()).toHaveLength(0);
    const sent = await t.db('outbox').where({ ticket_id: res.id });
    for (const row of sent) {
      expect(row.status).toBe('sent');
      expect(row.attempts).toBe(1);
      const got = sink.received.filter((m) => m.parsed.messageId === row.message_id);
      expect(got, row.template).toHaveLength(1);
      const m = got[0].parsed;
      expect(m.subject).toContain(`[#${res.number}]`);
      expect(header(m, 'reply-to')).toContain('support@helpdesk.test');
      expect(m.text).toBeTruthy();
      expect(m.html).toBeTruthy();
      expect(m.html).not.toContain('<script>');
      // RFC 3834: the auto-response answers the user's message; the agents' alert answers nothing.
      expect(header(m, 'auto-submitted'), row.template).toBe(row.template === 'ticket-autoresponse' ? 'auto-replied' : 'auto-generated');
      expect(header(m, 'x-auto-response-suppress'), row.template).toBe('OOF, AutoReply');
    }
    const toUser = sink.received.find((m) => m.envelopeTo.includes('pat@example.com'))!.parsed;
    expect(toUser.from?.value[0]).toMatchObject({ address: 'billing@helpdesk.test', name: 'Billing Team' });
    expect(toUser.html).toContain('http://helpdesk.test/tickets/access?token=');
    expect(toUser.html).toContain('Card declined');
    const toAgent = sink.received.find((m) => m.envelopeTo.includes(agent.email))!.parsed;
    expect(toAgent.text).toContain('<script>x</script>'); // plain text part is not HTML
    expect(toAgent.html).toContain('Hello<br>');
    expect(toAgent.html).toContain('&lt;script&gt;x&lt;/script&gt;');
  });

  it('uses MAIL_FROM when the department has no email identity', async () => {
    const before = sink.received.length;
    await queueMail(t.ctx(), t.db, { template: 'overdue-alert', to: 'a@agents.test', vars: { agentName: 'A', ticket: { number: '1', subject: 's', department: 'd' }, agentUrl: 'x' } });
    await run(sink.url);
    const m = sink.received.slice(before)[0].parsed;
    expect(m.from?.value[0]).toMatchObject({ address: 'helpdesk@helpdesk.test', name: 'Help Desk' });
  });

  it('with SMTP down the mail waits, retries with backoff, and is delivered once when SMTP is back', async () => {
    const port = await freePort();
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) ids.push(await queueMail(t.ctx(), t.db, { template: 'overdue-alert', to: `down${i}@agents.test`, vars: { agentName: 'A', ticket: { number: String(i), subject: 's', department: 'd' }, agentUrl: 'x' } }));
    const r1 = await run(`smtp://127.0.0.1:${port}`);
    expect(r1.sent).toBe(0);
    expect(r1.retrying).toBe(1); // unreachable server: the run stops after the first failure
    const first = await t.db('outbox').where({ id: ids[0] }).first();
    expect(first).toMatchObject({ status: 'queued', attempts: 1 });
    expect(first.last_error).toMatch(/ECONNREFUSED|connect/i);
    expect(dbDate(first.next_attempt_at)!.getTime()).toBe(t.clock().getTime() + backoffMs(1));
    // Not due yet for the failed one; the other two are tried and fail too.
    await run(`smtp://127.0.0.1:${port}`);
    await run(`smtp://127.0.0.1:${port}`);
    expect((await t.db('outbox').whereIn('id', ids).pluck('status')).every((s: string) => s === 'queued')).toBe(true);
    const back = await startSmtpSink(port);
    try {
      expect((await run(back.url)).sent).toBe(0); // still backing off
      t.clock.advance(backoffMs(1) + 1000);
      const r = await run(back.url);
      expect(r.sent).toBe(3);
      expect((await run(back.url)).sent).toBe(0);
      expect(back.received.map((m) => m.envelopeTo[0]).sort()).toEqual(['down0@agents.test', 'down1@agents.test', 'down2@agents.test']);
      expect(await t.db('outbox').whereIn('id', ids).pluck('status')).toEqual(['sent', 'sent', 'sent']);
    } finally {
      await back.close();
    }
  });

  it('two workers racing over the same rows send every message exactly once', async () => {
    const before = sink.received.length;
    const ids: number[] = [];
    for (let i = 0; i < 12; i++) ids.push(await queueMail(t.ctx(), t.db, { template: 'overdue-alert', to: `race${i}@agents.test`, vars: { agentName: 'A', ticket: { number: String(i), subject: 's', department: 'd' }, agentUrl: 'x' } }));
    const [a, b] = await Promise.all([run(sink.url, 'worker-a'), run(sink.url, 'worker-b')]);
    expect(a.sent + b.sent).toBe(12);
    const got = sink.received.slice(before).map((m) => m.parsed.messageId);
    expect(got).toHaveLength(12);
    expect(new Set(got).size).toBe(12);
    expect(await t.db('outbox').whereIn('id', ids).where({ status: 'sent' })).toHaveLength(12);
  });

  it('recovers a message stuck in sending after the timeout and resends it with the same Message-ID', async () => {
    const id = await queueMail(t.ctx(), t.db, { template: 'overdue-alert', to: 'stuck@agents.test', vars: { agentName: 'A', ticket: { number: '9', subject: 's', department: 'd' }, agentUrl: 'x' } });
    await t.db('outbox').where({ id }).update({ status: 'sending', locked_by: 'dead-worker', locked_at: toDbDate(t.clock()), attempts: 1 });
    expect((await run(sink.url)).sent).toBe(0); // not yet timed out
    t.clock.advance(SENDING_TIMEOUT_MS + 1000);
    const r = await run(sink.url);
    expect(r.recovered).toBe(1);
    const row = await t.db('outbox').where({ id }).first();
    expect(row).toMatchObject({ status: 'sent', attempts: 2 });
    expect(sink.received.at(-1)!.parsed.messageId).toBe(row.message_id);
  });

  it('marks a message failed when the server refuses it (5xx) or after the last attempt', async () => {
    sink.refuse.add('nobody@agents.test');
    const refused = await queueMail(t.ctx(), t.db, { template: 'overdue-alert', to: 'nobody@agents.test', vars: { agentName: 'A', ticket: { number: '9', subject: 's', department: 'd' }, agentUrl: 'x' } });
    await run(sink.url);
    const row = await t.db('outbox').where({ id: refused }).first();
    expect(row.status).toBe('failed');
    expect(row.last_error).toMatch(/^550/);
    const last = await queueMail(t.ctx(), t.db, { template: 'overdue-alert', to: 'last@agents.test', vars: { agentName: 'A', ticket: { number: '9', subject: 's', department: 'd' }, agentUrl: 'x' } });
    await t.db('outbox').where({ id: last }).update({ attempts: MAX_ATTEMPTS - 1 });
    await run(`smtp://127.0.0.1:${await freePort()}`);
    expect((await t.db('outbox').where({ id: last }).first()).status).toBe('failed');
  });

  it('with no SMTP_URL the background task leaves mail waiting in the outbox', async () => {
    const id = await queueMail(t.ctx(), t.db, { template: 'overdue-alert', to: 'wait@agents.test', vars: { agentName: 'A', ticket: { number: '9', subject: 's', department: 'd' }, agentUrl: 'x' } });
    await outboxTask.run({ config: { ...t.config, smtpUrl: undefined }, db: t.db, clock: t.clock, logger: createLogger(t.config) });
    expect((await t.db('outbox').where({ id }).first()).status).toBe('queued');
    await outboxTask.run({ config: { ...t.config, smtpUrl: sink.url, mailFrom: 'x@helpdesk.test' }, db: t.db, clock: t.clock, logger: createLogger(t.config) });
    expect((await t.db('outbox').where({ id }).first()).status).toBe('sent');
  });
});
