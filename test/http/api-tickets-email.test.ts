/** POST /api/tickets.email: a raw RFC 822 message into the inbound mail pipeline. */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { createApiKey } from '../../src/domain/api-keys/api-key-service.ts';
import { readAttachment } from '../../src/domain/tickets/attachment-service.ts';
import { buildUser } from '../factories/index.ts';

const docEml = fs.readFileSync(path.resolve(import.meta.dirname, '../fixtures/api/osticket-doc-example.eml'));

describe('POST /api/tickets.email', () => {
  let t: TestApp;
  let key: string;
  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
    key = (await createApiKey(t.ctx(), { allowedIp: '*', canCreateTickets: true })).key;
  });
  afterAll(async () => t.close());

  const post = (body: Buffer | string, k: string | null = key) => {
    const r = request(t.app).post('/api/tickets.email').set('Content-Type', 'message/rfc822');
    return (k === null ? r : r.set('X-API-Key', k)).send(Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'));
  };
  const mail = (from: string, subject: string, id: string) =>
    `From: ${from}\r\nTo: support@helpdesk.test\r\nSubject: ${subject}\r\nMessage-ID: <${id}@example.com>\r\nDate: Mon, 2 Mar 2026 09:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello from ${from}.\r\n`;

  it("creates a ticket from osTicket's documented example, byte for byte (blank first line included), with its attachment", async () => {
    const res = await post(docEml);
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toMatch(/^\d+$/);
    const ticket = await t.db('tickets').where({ number: res.text }).first();
    expect(ticket).toMatchObject({ subject: 'Testing', source: 'email' });
    expect(await t.db('users').where({ id: ticket.user_id }).first()).toMatchObject({ email: 'peter@osticket.com', name: 'Peter Rotich' });
    expect((await t.db('thread_entries').where({ ticket_id: ticket.id }).first()).body).toContain('Testing testing.');
    const files = await t.db('attachments').where({ ticket_id: ticket.id });
    expect(files.map((f) => f.filename)).toEqual(['file.txt']);
    expect((await readAttachment(t.db, files[0].id))!.data.toString('utf8')).toBe('Joe daddys content\n');
  });

  it('does not file the same message twice (202, nothing new)', async () => {
    const before = Number((await t.db('tickets').count({ n: '*' }))[0].n);
    const res = await post(docEml);
    expect(res.status).toBe(202);
    expect(Number((await t.db('tickets').count({ n: '*' }))[0].n)).toBe(before);
  });

  it("threads the requester's reply into their ticket and answers with its number", async () => {
    const first = await post(mail('Ann <ann@example.com>', 'Broken printer', 'ann-1'));
    expect(first.status).toBe(201);
    const reply = await post(mail('Ann <ann@example.com>', `Re: [#${first.text}] Broken printer`, 'ann-2'));
    expect(reply.status).toBe(201);
    expect(reply.text).toBe(first.text);
    const ticket = await t.db('tickets').where({ number: first.text }).first();
    expect(await t.db('thread_entries').where({ ticket_id: ticket.id, kind: 'message' })).toHaveLength(2);
  });

  it('answers 403 "Ticket denied" for a banned sender', async () => {
    const banned = await buildUser(t.db, { is_banned: true });
    const res = await post(mail(banned.email, 'Let me in', 'banned-1'));
    expect(res.status).toBe(403);
    expect(res.text).toBe('Ticket denied');
  });

  it('answers 400 for an empty body or a message without a sender', async () => {
    expect((await post('\r\n\r\n')).status).toBe(400);
    expect((await post('Subject: nobody\r\n\r\nno from header\r\n')).status).toBe(400);
  });

  it('answers 401 without a key, and for a key that may not create tickets', async () => {
    expect((await post(docEml, null)).status).toBe(401);
    const manageOnly = await createApiKey(t.ctx(), { allowedIp: '*', canManageTickets: true });
    const res = await post(docEml, manageOnly.key);
    expect([res.status, res.text]).toEqual([401, 'API key not authorized']);
  });
});
