/** POST /api/tickets.json: osTicket's documented body and every error case, answered as osTicket answers. */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { apiKeyWindowKey, createApiKey, deleteApiKey, getApiKey, setApiKeyActive } from '../../src/domain/api-keys/api-key-service.ts';
import { purgeExpired } from '../../src/domain/housekeeping/housekeeping-service.ts';
import { readAttachment } from '../../src/domain/tickets/attachment-service.ts';
import { writeSettings } from '../../src/domain/settings/settings-service.ts';
import { buildUser, unique } from '../factories/index.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/api');
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name));
const GIF = Buffer.from(fixture('osticket-doc-example.xml').toString('utf8').split('encoding="base64">')[1].split('</file>')[0].replace(/\s+/g, ''), 'base64');

describe('POST /api/tickets.json', () => {
  let t: TestApp;
  let key: string;
  beforeAll(async () => {
    t = await startTestApp({ env: { TRUST_PROXY: '1' }, now: '2026-03-02T10:00:00Z' });
    key = (await createApiKey(t.ctx(), { allowedIp: '*', note: 'tests', canCreateTickets: true })).key;
  });
  afterAll(async () => t.close());

  const post = (body: string | Buffer, opts: { key?: string | null; ip?: string; path?: string; type?: string } = {}) => {
    let r = request(t.app).post(opts.path ?? '/api/tickets.json');
    if (opts.key !== null) r = r.set('X-API-Key', opts.key ?? key);
    if (opts.ip) r = r.set('X-Forwarded-For', opts.ip);
    // A string is sent as it is (superagent would serialise a Buffer as JSON); the fixtures are UTF-8.
    return r.set('Content-Type', opts.type ?? 'application/json').send(Buffer.isBuffer(body) ? body.toString('utf8') : body);
  };
  const ticketCount = async () => Number((await t.db('tickets').count({ n: '*' }))[0].n);
  const json = (o: Record<string, unknown>) => JSON.stringify({ name: 'Pat Doe', email: `${unique('pat')}@example.com`, subject: 'Printer on fire', message: 'It burns.', ...o });

  describe("osTicket's documented example", () => {
    it('refuses the example byte for byte with 400, as osTicket does (a comma after the last attachment is not JSON)', async () => {
      const before = await ticketCount();
      const res = await post(fixture('osticket-doc-example.json'));
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.text).toBe('Syntax error, malformed JSON');
      expect(await ticketCount()).toBe(before);
    });

    it('creates the ticket from the corrected example: 201, the number as plain text, HTML turned into text, attachments stored', async () => {
      const res = await post(fixture('osticket-doc-example-corrected.json'));
      expect(res.status).toBe(201);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.text).toMatch(/^\d+$/);
      const ticket = await t.db('tickets').where({ number: res.text }).first();
      expect(ticket).toMatchObject({ subject: 'Testing API', source: 'api', ip: '123.211.233.122', status: 'open' });
      const user = await t.db('users').where({ id: ticket.user_id }).first();
      expect(user).toMatchObject({ email: 'api@osticket.com', name: 'Angry User', phone: '3185558634X123' });
      const [entry] = await t.db('thread_entries').where({ ticket_id: ticket.id });
      expect(entry).toMatchObject({ kind: 'message', body: 'MESSAGE HERE', source: 'api' });
      const files = await t.db('attachments').where({ ticket_id: ticket.id }).orderBy('id');
      expect(files.map((f) => [f.filename, f.content_type, f.entry_id])).toEqual([['file.txt', 'text/plain', entry.id], ['image.png', 'image/png', entry.id]]);
      expect((await readAttachment(t.db, files[0].id))!.data.toString('utf8')).toBe('content');
      expect((await readAttachment(t.db, files[1].id))!.data.equals(GIF)).toBe(true);
      expect(await t.db('ticket_events').where({ ticket_id: ticket.id }).pluck('event')).toEqual(['created']);
      // alert and autorespond true: the user gets the auto-response, as from the portal.
      expect(await t.db('outbox').where({ ticket_id: ticket.id, to_address: 'api@osticket.com' })).toHaveLength(1);
    });
  });

  describe('fields', () => {
    it('sends no auto-response when autorespond is false', async () => {
      const email = `${unique('quiet')}@example.com`;
      const res = await post(json({ email, autorespond: false, alert: false }));
      expect(res.status).toBe(201);
      const ticket = await t.db('tickets').where({ number: res.text }).first();
      expect(await t.db('outbox').where({ ticket_id: ticket.id, to_address: email })).toHaveLength(0);
    });

    it('keeps unknown fields (custom form fields, notes) on the ticket', async () => {
      const res = await post(json({ notes: 'VIP customer', orderId: 42, custom: { plan: 'gold' } }));
      expect(res.status).toBe(201);
      const ticket = await t.db('tickets').where({ number: res.text }).first();
      expect(JSON.parse(ticket.extra)).toEqual({ notes: 'VIP customer', orderId: 42, custom: { plan: 'gold' } });
    });

    it('takes the request address when no ip is given, and plain text messages as they are', async () => {
      const res = await post(json({ message: 'a <b>literal</b> & text' }), { ip: '198.51.100.7' });
      expect(res.status).toBe(201);
      const ticket = await t.db('tickets').where({ number: res.text }).first();
      expect(ticket.ip).toBe('198.51.100.7');
      expect((await t.db('thread_entries').where({ ticket_id: ticket.id }).first()).body).toBe('a <b>literal</b> & text');
    });

    it('decodes base64 data URLs with a charset, and never keeps script from HTML', async () => {
      const html = Buffer.from('<p>Caf\u00e9 ok</p><script>alert(1)</script><img src=x onerror=alert(2)>', 'latin1').toString('base64');
      const res = await post(json({ message: `data:text/html;charset=iso-8859-1;base64,${html}` }));
      expect(res.status).toBe(201);
      const ticket = await t.db('tickets').where({ number: res.text }).first();
      const body = (await t.db('thread_entries').where({ ticket_id: ticket.id }).first()).body;
      expect(body).toBe('Café ok');
    });

    it('accepts priority, priorityId, topicId and a valid source (any case)', async () => {
      const high = (await t.db('priorities').where({ name: 'High' }).first()).id;
      const topic = (await t.db('help_topics').first('id')).id;
      const a = await post(json({ priority: String(high), topicId: topic, source: 'Phone' }));
      expect(a.status).toBe(201);
      expect(await t.db('tickets').where({ number: a.text }).first()).toMatchObject({ priority_id: high, topic_id: topic, source: 'phone' });
      const b = await post(json({ priorityId: high }));
      expect((await t.db('tickets').where({ number: b.text }).first()).priority_id).toBe(high);
    });

    it('accepts the body whatever Content-Type says (curl sends form-encoded by default)', async () => {
      const res = await post(json({}), { type: 'application/x-www-form-urlencoded' });
      expect(res.status).toBe(201);
    });

    it('answers at /api/http.php/tickets.json too', async () => {
      expect((await post(json({}), { path: '/api/http.php/tickets.json' })).status).toBe(201);
    });
  });

  describe('authentication (401, plain text)', () => {
    it('refuses a request without a key', async () => {
      const res = await post(json({}), { key: null });
      expect(res.status).toBe(401);
      expect(res.text).toBe('Valid API key required');
    });

    it('refuses an unknown, empty or whitespace key without echoing it', async () => {
      for (const k of ['tsk_not-a-real-key', '   ']) {
        const res = await post(json({}), { key: k });
        expect(res.status).toBe(401);
        expect(res.text).toBe('Valid API key required');
        expect(res.text).not.toContain('not-a-real-key');
      }
    });

    it('refuses a disabled key', async () => {
      const k = await createApiKey(t.ctx(), { allowedIp: '*', canCreateTickets: true });
      await setApiKeyActive(t.ctx(), k.id, false);
      const res = await post(json({}), { key: k.key });
      expect(res.status).toBe(401);
      expect(res.text).toBe('API key not found/active or source IP not authorized');
    });

    it('refuses a key restricted to one address from another, and accepts it from its own', async () => {
      const k = await createApiKey(t.ctx(), { allowedIp: '203.0.113.5', canCreateTickets: true });
      const other = await post(json({}), { key: k.key, ip: '203.0.113.6' });
      expect(other.status).toBe(401);
      expect(other.text).toBe('API key not found/active or source IP not authorized');
      expect((await post(json({}), { key: k.key, ip: '203.0.113.5' })).status).toBe(201);
    });

    it('accepts a key restricted to a range from inside it only', async () => {
      const k = await createApiKey(t.ctx(), { allowedIp: '203.0.113.0/24', canCreateTickets: true });
      expect((await post(json({}), { key: k.key, ip: '203.0.113.77' })).status).toBe(201);
      expect((await post(json({}), { key: k.key, ip: '203.0.114.1' })).status).toBe(401);
    });

    it('records when a key was last used (to the minute: when its rate-limit window began), in the same statement that finds the key', async () => {
      const k = await createApiKey(t.ctx(), { allowedIp: '*', canCreateTickets: true });
      const lastUsed = async () => (await getApiKey(t.ctx(), k.id)).lastUsedAt?.toISOString();
      expect(await lastUsed()).toBeUndefined();
      const first = t.clock().toISOString();
      expect((await post(json({}), { key: k.key })).status).toBe(201);
      expect(await lastUsed()).toBe(first);
      t.clock.advance(59_000);
      expect((await post(json({}), { key: k.key })).status).toBe(201);
      expect(await lastUsed()).toBe(first);
      t.clock.advance(2_000);
      expect((await post(json({}), { key: k.key })).status).toBe(201);
      expect(await lastUsed()).toBe(t.clock().toISOString());
      // The window outlives the minute: housekeeping keeps it, and it goes with the key.
      t.clock.advance(3_600_000);
      await purgeExpired(t.ctx());
      expect(await lastUsed()).toBe(new Date(t.clock().getTime() - 3_600_000).toISOString());
      await deleteApiKey(t.ctx(), k.id);
      expect(await t.db('rate_limits').where({ key: apiKeyWindowKey(k.id) }).first()).toBeUndefined();
    });

    it('does not count a refused call against the key (a holder elsewhere cannot use up its limit), nor an unknown key at all', async () => {
      const k = await createApiKey(t.ctx(), { allowedIp: '203.0.113.9', canCreateTickets: true });
      const windows = async () => t.db('rate_limits').where('key', 'like', 'api:%').count({ n: '*' }).first();
      const before = await windows();
      expect((await post(json({}), { key: 'tsk_no_such_key_at_all' })).status).toBe(401);
      expect(await windows()).toEqual(before);
      expect((await post(json({}), { key: k.key, ip: '203.0.113.10' })).status).toBe(401);
      expect((await post(json({}), { key: k.key, ip: '203.0.113.10' })).status).toBe(401);
      expect(Number((await t.db('rate_limits').where({ key: apiKeyWindowKey(k.id) }).first()).hits)).toBe(0);
      const ok = await post(json({}), { key: k.key, ip: '203.0.113.9' });
      expect(ok.status).toBe(201);
      expect(ok.headers.ratelimit).toBe('limit=300, remaining=299, reset=60');
    });

    it('refuses a key that may not create tickets', async () => {
      const k = await createApiKey(t.ctx(), { allowedIp: '*', canCreateTickets: false, canManageTickets: true });
      const res = await post(json({}), { key: k.key });
      expect(res.status).toBe(401);
      expect(res.text).toBe('API key not authorized');
    });
  });

  describe('bad requests', () => {
    it('answers 400 for invalid JSON, an empty body and a body that is not an object', async () => {
      for (const body of ['{"name": "x"', '', '[1,2]', '"text"']) {
        const res = await post(body);
        expect(res.status, body).toBe(400);
        expect(res.headers['content-type']).toMatch(/^text\/plain/);
      }
    });

    it('answers 400 with the fields for missing or invalid fields (osTicket says 500 here)', async () => {
      const before = await ticketCount();
      const res = await post(JSON.stringify({ name: 'Pat', subject: 'No email', message: 'x' }));
      expect(res.status).toBe(400);
      expect(res.text).toMatch(/^Unable to create new ticket: validation errors:\n/);
      expect(res.text).toMatch(/^email: /m);
      expect(await ticketCount()).toBe(before);
    });

    it('refuses an array where one value is expected', async () => {
      const res = await post(json({ name: ['a', 'b'] }));
      expect(res.status).toBe(400);
      expect(res.text).toMatch(/^name: /m);
    });

    it('refuses a source, ip, priority or alert of the wrong kind', async () => {
      for (const [field, value] of [['source', 'Carrier pigeon'], ['ip', 'not-an-ip'], ['priorityId', 'high'], ['topicId', [1]], ['alert', { a: 1 }], ['priorityId', 99999]] as const) {
        const res = await post(json({ [field]: value }));
        expect(res.status, field).toBe(400);
        expect(res.text).toMatch(new RegExp(`^${field}: `, 'm'));
      }
    });

    it('refuses badly encoded base64 and malformed attachment lists, storing nothing', async () => {
      const before = await ticketCount();
      const cases = [
        [{ 'a.txt': 'data:text/plain;base64,%%%not base64%%%' }],
        [{ 'image.png': 'data:image/png;base64,R0lGODdhMAA...' }],
        [['a.txt', 'data:,x']],
        { 'a.txt': 'data:,x' },
      ];
      for (const attachments of cases) {
        const res = await post(json({ attachments }));
        expect(res.status, JSON.stringify(attachments)).toBe(400);
        expect(res.text).toMatch(/^attachments/m);
      }
      expect(await ticketCount()).toBe(before);
    });

    it('refuses a file type the settings do not allow', async () => {
      const res = await post(json({ attachments: [{ 'setup.exe': 'data:application/octet-stream;base64,TVqQAAMAAAAEAAAA' }] }));
      expect(res.status).toBe(400);
      expect(res.text).toMatch(/^attachments: /m);
    });

    it('answers 403 "Ticket denied" for a banned address', async () => {
      const banned = await buildUser(t.db, { is_banned: true });
      const res = await post(json({ email: banned.email }));
      expect(res.status).toBe(403);
      expect(res.text).toBe('Ticket denied');
    });

    it('answers 415 for an unsupported format', async () => {
      const res = await post(json({}), { path: '/api/tickets.yaml' });
      expect(res.status).toBe(415);
      expect(res.text).toBe('Unsupported data format');
    });

    it('answers 413 for a body over the limit, before creating anything', async () => {
      await writeSettings(t.db, { attachment_max_bytes: 1024, attachment_max_count: 1 }, new Date());
      try {
        const before = await ticketCount();
        const res = await post(json({ message: 'x'.repeat(1100 * 1024) }));
        expect(res.status).toBe(413);
        expect(res.headers['content-type']).toMatch(/^text\/plain/);
        expect(await ticketCount()).toBe(before);
      } finally {
        await writeSettings(t.db, { attachment_max_bytes: 10 * 1024 * 1024, attachment_max_count: 5 }, new Date());
      }
    });
  });

  describe('rate limit per key', () => {
    it('answers 429 beyond the per-minute limit for that key, and other keys go on; the RateLimit headers say where a key stands', async () => {
      await writeSettings(t.db, { api_rate_limit_per_minute: 2 }, new Date());
      try {
        const busy = await createApiKey(t.ctx(), { allowedIp: '*', canCreateTickets: true });
        const calm = await createApiKey(t.ctx(), { allowedIp: '*', canCreateTickets: true });
        const first = await post(json({}), { key: busy.key });
        expect(first.status).toBe(201);
        expect(first.headers['ratelimit-policy']).toBe('2;w=60');
        expect(first.headers.ratelimit).toBe('limit=2, remaining=1, reset=60');
        t.clock.advance(15_000);
        const second = await post(json({}), { key: busy.key });
        expect(second.status).toBe(201);
        expect(second.headers.ratelimit).toBe('limit=2, remaining=0, reset=45');
        expect(second.headers['retry-after']).toBeUndefined();
        const third = await post(json({}), { key: busy.key });
        expect(third.status).toBe(429);
        expect(third.headers['content-type']).toMatch(/^text\/plain/);
        expect(third.text).toBe('Too many requests for this API key. Please slow down.');
        expect(third.headers['retry-after']).toBe('45');
        expect((await post(json({}), { key: calm.key })).status).toBe(201);
        t.clock.advance(46_000);
        expect((await post(json({}), { key: busy.key })).status).toBe(201);
      } finally {
        await writeSettings(t.db, { api_rate_limit_per_minute: 300 }, new Date());
      }
    });
  });
});
