/** POST /api/tickets.xml: osTicket's documented XML body, and XML that must be refused (XXE, bad XML). */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { createApiKey } from '../../src/domain/api-keys/api-key-service.ts';
import { readAttachment } from '../../src/domain/tickets/attachment-service.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/api');
const docXml = fs.readFileSync(path.join(FIXTURES, 'osticket-doc-example.xml'), 'utf8');
const GIF = Buffer.from(docXml.split('encoding="base64">')[1].split('</file>')[0].replace(/\s+/g, ''), 'base64');

describe('POST /api/tickets.xml', () => {
  let t: TestApp;
  let key: string;
  beforeAll(async () => {
    t = await startTestApp();
    key = (await createApiKey(t.ctx(), { allowedIp: '*', canCreateTickets: true })).key;
  });
  afterAll(async () => t.close());

  const post = (body: string, k: string | null = key) => {
    const r = request(t.app).post('/api/tickets.xml').set('Content-Type', 'application/xml');
    return (k === null ? r : r.set('X-API-Key', k)).send(body);
  };
  const ticketCount = async () => Number((await t.db('tickets').count({ n: '*' }))[0].n);
  const xml = (inner: string, attrs = '') => `<?xml version="1.0" encoding="UTF-8"?>\n<ticket${attrs}><name>Pat</name><email>pat@example.com</email><subject>Hi</subject>${inner}</ticket>`;

  it("creates the ticket from osTicket's documented example, byte for byte: CDATA message, trimmed text file, base64 GIF", async () => {
    const res = await post(docXml);
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toMatch(/^\d+$/);
    const ticket = await t.db('tickets').where({ number: res.text }).first();
    expect(ticket).toMatchObject({ subject: 'Testing API', source: 'api', ip: '123.211.233.122' });
    expect(await t.db('users').where({ id: ticket.user_id }).first()).toMatchObject({ email: 'api@osticket.com', name: 'Angry User', phone: '318-555-8634X123' });
    const [entry] = await t.db('thread_entries').where({ ticket_id: ticket.id });
    expect(entry.body).toBe('Message content here');
    const files = await t.db('attachments').where({ ticket_id: ticket.id }).orderBy('id');
    expect(files.map((f) => [f.filename, f.content_type])).toEqual([['file.txt', 'text/plain'], ['image.gif', 'image/gif']]);
    expect((await readAttachment(t.db, files[0].id))!.data.toString('utf8')).toBe('File content is here and is automatically trimmed');
    expect((await readAttachment(t.db, files[1].id))!.data.equals(GIF)).toBe(true);
    expect(ticket.extra).toBeNull();
    // alert="true" autorespond="true": the auto-response is queued.
    expect(await t.db('outbox').where({ ticket_id: ticket.id, to_address: 'api@osticket.com' })).toHaveLength(1);
  });

  it('turns an HTML message into text, reads the phone extension attribute, and keeps unknown elements as extra fields', async () => {
    const res = await post(xml('<message type="text/html"><![CDATA[<p>Hello <b>there</b></p><script>alert(1)</script>]]></message><phone ext="42">555-0100</phone><orderId>A-7</orderId><custom kind="x">v</custom>', ' autorespond="false" source="Email"'));
    expect(res.status).toBe(201);
    const ticket = await t.db('tickets').where({ number: res.text }).first();
    expect(ticket.source).toBe('email');
    expect((await t.db('thread_entries').where({ ticket_id: ticket.id }).first()).body).toBe('Hello there');
    expect((await t.db('users').where({ id: ticket.user_id }).first()).phone).toBe('555-0100X42');
    expect(JSON.parse(ticket.extra)).toEqual({ orderId: 'A-7', custom: { kind: 'x', text: 'v' } });
    expect(await t.db('outbox').where({ ticket_id: ticket.id, to_address: 'pat@example.com' })).toHaveLength(0);
  });

  it('decodes the body in the encoding the XML declaration names', async () => {
    const body = Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><ticket><name>Ren\u00e9</name><email>rene@example.com</email><subject>Caf\u00e9</subject><message>Cr\u00e8me</message></ticket>', 'latin1');
    // A Buffer is sent as its bytes (Latin-1 here, not UTF-8).
    const res = await request(t.app).post('/api/tickets.xml').set('X-API-Key', key).set('Content-Type', 'application/octet-stream').send(body);
    expect(res.status).toBe(201);
    const ticket = await t.db('tickets').where({ number: res.text }).first();
    expect(ticket.subject).toBe('Café');
  });

  it('never expands entities: a DOCTYPE (XXE, billion laughs) is refused with 400 and nothing is created', async () => {
    const before = await ticketCount();
    const xxe = '<?xml version="1.0"?><!DOCTYPE ticket [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><ticket><name>&xxe;</name><email>x@example.com</email><subject>s</subject><message>m</message></ticket>';
    const lol = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><ticket><name>&lol2;</name></ticket>';
    for (const body of [xxe, lol]) {
      const res = await post(body);
      expect(res.status).toBe(400);
      expect(res.text).not.toContain('root:');
    }
    expect(await ticketCount()).toBe(before);
  });

  it('answers 400 for XML that is not well formed, another root, a repeated field, or bad base64', async () => {
    const before = await ticketCount();
    const cases = [
      '<ticket><name>Pat</ticket>',
      'not xml at all',
      '<?xml version="1.0"?><order><name>Pat</name></order>',
      xml('<message>a</message><message>b</message>'),
      xml('<message>m</message><attachments><file name="a.gif" type="image/gif" encoding="base64">@@not base64@@</file></attachments>'),
      xml('<message>m</message><attachments><file type="text/plain">no name</file></attachments>'),
    ];
    for (const body of cases) expect((await post(body)).status, body).toBe(400);
    expect(await ticketCount()).toBe(before);
  });

  it('answers 400 with the fields when a required field is missing', async () => {
    const res = await post('<ticket><name>Pat</name><email>pat@example.com</email><message>no subject</message></ticket>');
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/^subject: /m);
  });

  it('answers 401 without a key', async () => {
    expect((await post(docXml, null)).status).toBe(401);
  });
});
