import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { client, csrfFrom, loginAsAgent, $, type Client } from '../support/http.ts';
import { buildAdmin, buildAgent } from '../factories/index.ts';

const ENTITIES = ['departments', 'sla-plans', 'schedules', 'help-topics', 'priorities', 'teams', 'agents'];

/** Every admin route this area defines, with a real id where one is needed. */
function routes(agentId: number): [method: 'get' | 'post', path: string][] {
  const out: ['get' | 'post', string][] = [['get', '/scp/admin'], ['get', '/scp/admin/settings'], ['post', '/scp/admin/settings'], ['get', '/scp/admin/audit']];
  for (const e of ENTITIES) {
    const id = e === 'agents' ? agentId : 1;
    const base = `/scp/admin/${e}`;
    out.push(['get', base], ['get', `${base}/new`], ['post', base], ['post', `${base}/new`], ['get', `${base}/${id}`], ['post', `${base}/${id}`]);
    for (const a of ['disable', 'enable', 'delete']) out.push(['post', `${base}/${id}/${a}`]);
  }
  for (const a of ['reset-password', 'unlock', 'lock']) out.push(['post', `/scp/admin/agents/${agentId}/${a}`]);
  return out;
}

let t: TestApp;
let agentId: number;
let agentClient: Client;
let adminClient: Client;

beforeAll(async () => {
  t = await startTestApp();
  const admin = await buildAdmin(t.db);
  const agent = await buildAgent(t.db);
  agentId = agent.id;
  // Id 1 exists for every catalogue (install defaults); teams need one.
  await t.db('teams').insert({ id: 1, name: 'Team one', is_active: true, created_at: '2026-01-01 00:00:00.000', updated_at: '2026-01-01 00:00:00.000' });
  agentClient = await loginAsAgent(t.app, agent.username, agent.password);
  adminClient = await loginAsAgent(t.app, admin.username, admin.password);
});
afterAll(async () => t.close());

describe('admin routes', () => {
  it('are refused to a signed-in agent who is not an admin (403), and change nothing', async () => {
    const token = await csrfFrom(agentClient, '/scp');
    const before = await t.db('audit_log').whereNot('action', 'like', 'login.%').count({ n: '*' });
    for (const [method, path] of routes(agentId)) {
      const res = method === 'get' ? await agentClient.get(path) : await agentClient.post(path).type('form').send({ _csrf: token, name: 'Hacked' });
      expect(res.status, `${method} ${path}`).toBe(403);
    }
    expect(await t.db('audit_log').whereNot('action', 'like', 'login.%').count({ n: '*' })).toEqual(before);
    expect(await t.db('departments').where({ name: 'Hacked' }).first()).toBeUndefined();
    expect(Boolean((await t.db('agents').where({ id: agentId }).first()).is_active)).toBe(true);
  });

  it('send an anonymous visitor to the sign-in page', async () => {
    const anon = client(t.app);
    const token = await csrfFrom(anon, '/scp/login');
    for (const [method, path] of routes(agentId)) {
      const res = method === 'get' ? await anon.get(path) : await anon.post(path).type('form').send({ _csrf: token });
      expect(res.status, `${method} ${path}`).toBe(303);
      expect(res.headers.location, `${method} ${path}`).toMatch(/^\/scp\/login/);
    }
  });

  it('are open to an admin (every GET answers 200)', async () => {
    for (const [method, path] of routes(agentId)) {
      if (method !== 'get') continue;
      expect((await adminClient.get(path)).status, path).toBe(200);
    }
  });

  it('show the Admin link only to admins', async () => {
    expect($((await agentClient.get('/scp')).text)('a[href="/scp/admin"]').length).toBe(0);
    expect($((await adminClient.get('/scp')).text)('a[href="/scp/admin"]').length).toBe(1);
  });
});
