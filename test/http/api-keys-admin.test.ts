/** Admin pages for API keys: shown once, stored as a hash, disable/enable/delete take effect at once. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { $, client, loginAsAgent, submit, type Client } from '../support/http.ts';
import { buildAdmin, buildAgent } from '../factories/index.ts';
import { apiKeyWindowKey, hashApiKey, ipAllowed } from '../../src/domain/api-keys/api-key-service.ts';
import { writeSettings } from '../../src/domain/settings/settings-service.ts';
import { titleAsNoun } from '../../src/web/admin/admin-crud.ts';

describe('admin: API keys', () => {
  let t: TestApp;
  let admin: Client;
  beforeAll(async () => {
    t = await startTestApp({ env: { TRUST_PROXY: '1' } });
    const a = await buildAdmin(t.db);
    admin = await loginAsAgent(t.app, a.username, a.password);
  });
  afterAll(async () => t.close());

  const apiPost = (key: string, ip: string) =>
    request(t.app).post('/api/tickets.json').set('X-API-Key', key).set('X-Forwarded-For', ip).set('Content-Type', 'application/json')
      .send(JSON.stringify({ name: 'Pat', email: 'pat@example.com', subject: 'Hello', message: 'Hi' }));

  async function createKey(data: Record<string, string>) {
    const res = await submit(admin, '/scp/admin/api-keys/new', '/scp/admin/api-keys', data);
    const key = $(res.text)('#api-key').val() as string | undefined;
    return { res, key };
  }

  it('is for admins only', async () => {
    expect((await request(t.app).get('/scp/admin/api-keys')).status).toBe(303);
    const agent = await buildAgent(t.db);
    const c = await loginAsAgent(t.app, agent.username, agent.password);
    expect((await c.get('/scp/admin/api-keys')).status).toBe(403);
    expect((await c.post('/scp/admin/api-keys').type('form').send({ allowedIp: '*' })).status).toBe(403);
    expect(await t.db('api_keys').count({ n: '*' })).toEqual([{ n: 0 }]);
  });

  it('says "No API keys yet" while there are none (acronyms kept in list titles)', async () => {
    const res = await admin.get('/scp/admin/api-keys');
    expect(res.status).toBe(200);
    expect($(res.text)('p.empty').text()).toMatch(/^No API keys yet\. Create the first API key\.$/);
    expect(['API keys', 'SLA plans', 'Help topics'].map(titleAsNoun)).toEqual(['API keys', 'SLA plans', 'help topics']);
  });

  it('creates a key, shows it once (never cached), stores only its hash, and the key works from its range', async () => {
    const { res, key } = await createKey({ allowedIp: '10.0.0.0/24', note: 'CRM sync', canCreateTickets: 'on' });
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(key).toMatch(/^tsk_[A-Za-z0-9_-]{32}$/);
    const row = await t.db('api_keys').where({ note: 'CRM sync' }).first();
    expect(row.key_hash).toBe(hashApiKey(key!));
    expect(JSON.stringify(row)).not.toContain(key!);
    expect(row).toMatchObject({ allowed_ip: '10.0.0.0/24', key_prefix: key!.slice(0, 10) });
    const audit = await t.db('audit_log').where({ action: 'api_key.create', entity_id: row.id }).first();
    expect(audit.after).not.toContain(key!);
    expect(JSON.stringify(await t.db('sessions').select('sess'))).not.toContain(key!);
    const lastUsed = async () => $((await admin.get(`/scp/admin/api-keys/${row.id}`)).text)('dt:contains("Last used") + dd').text().trim();
    expect(await lastUsed()).toBe('Never');

    expect((await apiPost(key!, '10.0.0.9')).status).toBe(201);
    expect(await lastUsed()).toBe(t.clock().toISOString().slice(0, 16).replace('T', ' ') + ' UTC');
    expect((await apiPost(key!, '10.0.1.9')).status).toBe(401);

    const list = await admin.get('/scp/admin/api-keys');
    expect(list.status).toBe(200);
    expect(list.text).toContain(key!.slice(0, 10));
    expect(list.text).not.toContain(key!);
    const edit = await admin.get(`/scp/admin/api-keys/${row.id}`);
    expect(edit.text).not.toContain(key!);
  });

  it('shows created and last-used dates in the help desk’s time zone, as agent pages show them', async () => {
    const { key } = await createKey({ allowedIp: '*', note: 'Zone check', canCreateTickets: 'on' });
    const id = (await t.db('api_keys').where({ key_hash: hashApiKey(key!) }).first()).id;
    expect((await apiPost(key!, '192.0.2.7')).status).toBe(201);
    await t.db('api_keys').where({ id }).update({ created_at: '2026-11-28 23:01:25.659' });
    // Last used = when the key's rate-limit window began (a minute before it resets).
    await t.db('rate_limits').where({ key: apiKeyWindowKey(id) }).update({ reset_at: '2026-07-01 08:16:00.000' });
    await writeSettings(t.db, { timezone: 'Europe/Berlin' }, new Date());
    try {
      const list = $((await admin.get('/scp/admin/api-keys')).text);
      expect(list(`tr:has(a[href="/scp/admin/api-keys/${id}"]) td[data-label="Last used"]`).text()).toBe('2026-07-01 10:15 GMT+2');
      const page = $((await admin.get(`/scp/admin/api-keys/${id}`)).text);
      expect(page('dt:contains("Created") + dd').text()).toBe('2026-11-29 00:01 GMT+1');
      expect(page('dt:contains("Last used") + dd').text()).toBe('2026-07-01 10:15 GMT+2');
    } finally {
      await writeSettings(t.db, { timezone: 'UTC' }, new Date());
    }
  });

  it('keeps the input and shows errors for a bad address or no permission', async () => {
    const bad = await createKey({ allowedIp: '10.0.0.300', note: 'typo', canCreateTickets: 'on' });
    expect(bad.res.status).toBe(422);
    const page = $(bad.res.text);
    expect(page('#e-allowedIp').length).toBe(1);
    expect(page('#f-note').val()).toBe('typo');
    expect(bad.key).toBeUndefined();
    const none = await createKey({ allowedIp: '*', note: 'nothing' });
    expect(none.res.status).toBe(422);
    expect($(none.res.text)('#e-canCreateTickets').length).toBe(1);
    expect(await t.db('api_keys').whereIn('note', ['typo', 'nothing'])).toHaveLength(0);
  });

  it('edits note, address and permissions; disable and delete take effect at once', async () => {
    const { key } = await createKey({ allowedIp: '*', note: 'Monitoring', canCreateTickets: 'on' });
    const id = (await t.db('api_keys').where({ key_hash: hashApiKey(key!) }).first()).id;
    const saved = await submit(admin, `/scp/admin/api-keys/${id}`, `/scp/admin/api-keys/${id}`, { allowedIp: '192.0.2.1', note: 'Monitoring v2', canManageTickets: 'on' });
    expect(saved.status).toBe(303);
    expect(await t.db('api_keys').where({ id }).first()).toMatchObject({ note: 'Monitoring v2', allowed_ip: '192.0.2.1' });
    const row = await t.db('api_keys').where({ id }).first();
    expect(Boolean(Number(row.can_create_tickets))).toBe(false);
    expect(Boolean(Number(row.can_manage_tickets))).toBe(true);
    const refused = await apiPost(key!, '192.0.2.1');
    expect([refused.status, refused.text]).toEqual([401, 'API key not authorized']);

    await submit(admin, `/scp/admin/api-keys/${id}`, `/scp/admin/api-keys/${id}`, { allowedIp: '192.0.2.1', note: 'Monitoring v2', canCreateTickets: 'on' });
    expect((await apiPost(key!, '192.0.2.1')).status).toBe(201);
    expect((await submit(admin, `/scp/admin/api-keys/${id}`, `/scp/admin/api-keys/${id}/disable`, {})).status).toBe(303);
    expect((await apiPost(key!, '192.0.2.1')).text).toBe('API key not found/active or source IP not authorized');
    await submit(admin, `/scp/admin/api-keys/${id}`, `/scp/admin/api-keys/${id}/enable`, {});
    expect((await apiPost(key!, '192.0.2.1')).status).toBe(201);
    const del = await submit(admin, `/scp/admin/api-keys/${id}`, `/scp/admin/api-keys/${id}/delete`, {});
    expect(del.headers.location).toBe('/scp/admin/api-keys');
    expect(await t.db('api_keys').where({ id }).first()).toBeUndefined();
    expect((await apiPost(key!, '192.0.2.1')).text).toBe('Valid API key required');
    expect(await t.db('audit_log').where({ entity: 'api_key', entity_id: id }).orderBy('id').pluck('action')).toEqual(['api_key.create', 'api_key.update', 'api_key.update', 'api_key.disable', 'api_key.enable', 'api_key.delete']);
  });

  it('refuses a POST without a CSRF token', async () => {
    const res = await admin.post('/scp/admin/api-keys').type('form').send({ allowedIp: '*', canCreateTickets: 'on', note: 'no csrf' });
    expect(res.status).toBe(403);
    expect(await t.db('api_keys').where({ note: 'no csrf' })).toHaveLength(0);
  });
});

describe('ipAllowed', () => {
  it('matches an address, a range, any (*), IPv4-mapped IPv6, and nothing else', () => {
    expect(ipAllowed('10.0.0.5', '10.0.0.5')).toBe(true);
    expect(ipAllowed('10.0.0.5', '::ffff:10.0.0.5')).toBe(true);
    expect(ipAllowed('10.0.0.5', '10.0.0.6')).toBe(false);
    expect(ipAllowed('10.0.0.0/24', '10.0.0.255')).toBe(true);
    expect(ipAllowed('10.0.0.0/24', '10.0.1.0')).toBe(false);
    expect(ipAllowed('2001:db8::/32', '2001:db8:1::1')).toBe(true);
    expect(ipAllowed('2001:db8::/32', '10.0.0.1')).toBe(false);
    expect(ipAllowed('*', '203.0.113.1')).toBe(true);
    expect(ipAllowed('*', undefined)).toBe(false);
    expect(ipAllowed('10.0.0.5', '')).toBe(false);
  });
});
