/** The JSON API at /api/v1: read, list with cursor, create, and ticket actions by a managing key. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { createApiKey } from '../../src/domain/api-keys/api-key-service.ts';
import { buildAgent, buildDepartment, unique } from '../factories/index.ts';

describe('/api/v1', () => {
  let t: TestApp;
  let manage: string;
  let createOnly: string;
  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
    manage = (await createApiKey(t.ctx(), { allowedIp: '*', canManageTickets: true, canCreateTickets: true })).key;
    createOnly = (await createApiKey(t.ctx(), { allowedIp: '*', canCreateTickets: true })).key;
  });
  afterAll(async () => t.close());

  const get = (url: string, key: string | null = manage) => (key ? request(t.app).get(url).set('X-API-Key', key) : request(t.app).get(url));
  const post = (url: string, body: unknown, key: string = manage) => request(t.app).post(url).set('X-API-Key', key).send(body as object);
  async function newTicket(o: Record<string, unknown> = {}) {
    const res = await post('/api/v1/tickets', { name: 'Pat', email: `${unique('pat')}@example.com`, subject: 'Help', message: 'Please help.', ...o });
    expect(res.status).toBe(201);
    return res.body as { id: number; number: string };
  }

  describe('errors are JSON', () => {
    it('401 without a key, 403 for a key that may not manage tickets, 404 for an unknown ticket or path', async () => {
      const none = await get('/api/v1/tickets', null);
      expect(none.status).toBe(401);
      expect(none.body).toEqual({ error: { code: 'API_KEY_REQUIRED', message: expect.any(String) } });
      const weak = await get('/api/v1/tickets', createOnly);
      expect([weak.status, weak.body.error.code]).toEqual([403, 'API_KEY_NOT_AUTHORIZED']);
      const missing = await get('/api/v1/tickets/000000');
      expect([missing.status, missing.body.error.code]).toEqual([404, 'TICKET_NOT_FOUND']);
      expect((await get('/api/v1/nothing')).status).toBe(404);
    });

    it('400 for malformed JSON, 415 for a body that is not JSON, 422 with fields for invalid input', async () => {
      const bad = await request(t.app).post('/api/v1/tickets').set('X-API-Key', manage).set('Content-Type', 'application/json').send('{"name":');
      expect(bad.status).toBe(400);
      expect(bad.body.error).toBeDefined();
      const form = await request(t.app).post('/api/v1/tickets').set('X-API-Key', manage).type('form').send({ name: 'x' });
      expect([form.status, form.body.error.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
      const invalid = await post('/api/v1/tickets', { name: 'Pat', subject: 'No email', message: 'x' });
      expect(invalid.status).toBe(422);
      expect(invalid.body.error.fields).toHaveProperty('email');
    });
  });

  describe('read', () => {
    it('creates a ticket and reads it with its thread and attachments', async () => {
      const created = await newTicket({ message: 'data:text/html,<p>Hi <b>there</b></p>', attachments: [{ 'a.txt': 'data:text/plain,hello' }], orderId: 7 });
      const res = await get(`/api/v1/tickets/${created.number}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: created.id, number: created.number, subject: 'Help', status: 'open', state: 'open', source: 'api', extra: { orderId: 7 } });
      expect(res.body.department).toEqual({ id: expect.any(Number), name: expect.any(String) });
      expect(res.body.thread).toEqual([{
        id: expect.any(Number), kind: 'message', poster: 'Pat', body: 'Hi there', source: 'api', createdAt: '2026-03-02T10:00:00.000Z', editedAt: null,
        attachments: [{ id: expect.any(Number), filename: 'a.txt', contentType: 'text/plain', size: 5 }],
      }]);
    });

    it('lists tickets newest first with filters and a cursor that visits each ticket once', async () => {
      const email = `${unique('list')}@example.com`;
      const made = [];
      for (let i = 0; i < 5; i++) made.push((await newTicket({ email })).number);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res = await get(`/api/v1/tickets?email=${encodeURIComponent(email)}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        expect(res.status).toBe(200);
        expect(res.body.data.length).toBeLessThanOrEqual(2);
        seen.push(...res.body.data.map((x: { number: string }) => x.number));
        cursor = res.body.nextCursor;
      } while (cursor);
      expect(seen).toEqual([...made].reverse());
      const closed = await get(`/api/v1/tickets?email=${encodeURIComponent(email)}&state=closed`);
      expect(closed.body).toEqual({ data: [], nextCursor: null });
    });

    it('refuses bad list parameters with 422 and the field', async () => {
      for (const [q, field] of [['limit=1000', 'limit'], ['cursor=not*valid', 'cursor'], ['cursor=Zm9v', 'cursor'], ['status=lost', 'status'], ['updatedSince=yesterday', 'updatedSince']]) {
        const res = await get(`/api/v1/tickets?${q}`);
        expect(res.status, q).toBe(422);
        expect(res.body.error.fields).toHaveProperty(field);
      }
    });
  });

  describe('actions (as "API", through the agent action services)', () => {
    it('replies (mailed to the user), adds a note, and changes priority, department, assignee, SLA and status', async () => {
      const email = `${unique('act')}@example.com`;
      const { number, id } = await newTicket({ email });
      const reply = await post(`/api/v1/tickets/${number}/replies`, { message: 'We are on it.' });
      expect(reply.status).toBe(201);
      expect(reply.body).toMatchObject({ changed: true, entryId: expect.any(Number), ticket: { number, isAnswered: true } });
      expect(await t.db('outbox').where({ ticket_id: id, to_address: email })).toHaveLength(2); // auto-response + reply
      const note = await post(`/api/v1/tickets/${number}/notes`, { note: 'Internal: call them.' });
      expect(note.status).toBe(201);

      const high = (await t.db('priorities').where({ name: 'High' }).first()).id;
      expect((await post(`/api/v1/tickets/${number}/priority`, { priorityId: high })).body.ticket.priority.id).toBe(high);
      const dept = await buildDepartment(t.db);
      expect((await post(`/api/v1/tickets/${number}/department`, { departmentId: dept })).body.ticket.department.id).toBe(dept);
      const agent = await buildAgent(t.db, { department_id: dept });
      const assigned = await post(`/api/v1/tickets/${number}/assignee`, { agentId: agent.id });
      expect([assigned.status, assigned.body.ticket.assignee]).toEqual([200, { id: agent.id, name: `Agent ${agent.username}` }]);
      expect((await post(`/api/v1/tickets/${number}/sla`, { slaPlanId: null })).status).toBe(200);
      const closed = await post(`/api/v1/tickets/${number}/status`, { status: 'closed', comment: 'Done via API' });
      expect(closed.status).toBe(200);
      expect(closed.body.ticket).toMatchObject({ status: 'closed', state: 'closed', closedAt: expect.any(String) });

      const thread = (await get(`/api/v1/tickets/${number}`)).body.thread;
      expect(thread.map((e: { kind: string; poster: string }) => [e.kind, e.poster])).toEqual([['message', 'Pat'], ['response', 'API'], ['note', 'API'], ['note', 'API']]);
      const events = await t.db('ticket_events').where({ ticket_id: id }).orderBy('id').select('event', 'actor_kind');
      expect(events.filter((e) => e.event !== 'created').every((e) => e.actor_kind === 'api')).toBe(true);
    });

    it('shows the CCs, and replies to the requester and the CCs, or to the requester only with notifyUser "user"', async () => {
      const email = `${unique('req')}@example.com`;
      const { number, id } = await newTicket({ email });
      const [ccId] = await t.db('users').insert({ email: `${unique('cc')}@example.com`, name: 'Casey Copy', is_banned: false, created_at: '2026-03-02 10:00:00.000', updated_at: '2026-03-02 10:00:00.000' });
      const cc = await t.db('users').where({ id: ccId }).first();
      await t.db('ticket_collaborators').insert({ ticket_id: id, user_id: cc.id, created_at: '2026-03-02 10:00:00.000' });
      expect((await get(`/api/v1/tickets/${number}`)).body).toMatchObject({ ccs: [{ name: 'Casey Copy', email: cc.email }], mergedInto: null });
      const replies = () => t.db('outbox').where({ ticket_id: id, template: 'agent-response' }).orderBy('id').pluck('to_address');
      expect((await post(`/api/v1/tickets/${number}/replies`, { message: 'To everyone.' })).status).toBe(201);
      expect((await replies()).sort()).toEqual([cc.email, email].sort());
      expect((await post(`/api/v1/tickets/${number}/replies`, { message: 'Only to you.', notifyUser: 'user' })).status).toBe(201);
      expect((await replies()).length).toBe(3);
      expect((await replies()).at(-1)).toBe(email);
      expect((await post(`/api/v1/tickets/${number}/replies`, { message: 'Nobody.', notifyUser: false })).status).toBe(201);
      expect((await replies()).length).toBe(3);
      const bad = await post(`/api/v1/tickets/${number}/replies`, { message: 'Hm', notifyUser: 'everyone' });
      expect([bad.status, Object.keys(bad.body.error.fields)]).toEqual([422, ['notifyUser']]);
    });

    it('refuses a stale version with 409 and the current version, and invalid input with 422', async () => {
      const { number } = await newTicket();
      const stale = await post(`/api/v1/tickets/${number}/notes`, { note: 'x', version: 99 });
      expect(stale.status).toBe(409);
      expect(stale.body.error).toMatchObject({ code: 'TICKET_CHANGED', currentVersion: 1 });
      const empty = await post(`/api/v1/tickets/${number}/replies`, { message: '' });
      expect(empty.status).toBe(422);
      expect(empty.body.error.fields).toHaveProperty('message');
      expect((await post(`/api/v1/tickets/${number}/status`, { status: 'open' })).status).toBe(409);
    });

    it('refuses actions to a key that may only create tickets', async () => {
      const { number } = await newTicket();
      const res = await post(`/api/v1/tickets/${number}/notes`, { note: 'x' }, createOnly);
      expect([res.status, res.body.error.code]).toEqual([403, 'API_KEY_NOT_AUTHORIZED']);
    });
  });
});
