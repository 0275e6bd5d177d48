import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { loginAsAgent, $ } from '../support/http.ts';
import { buildAdmin, buildAgent, buildDepartment, buildTicket, type BuiltAgent } from '../factories/index.ts';
import { toDbDate } from '../../src/db/dialect.ts';
import { getAgentDashboard } from '../../src/domain/reports/dashboard-service.ts';
import { ANONYMOUS } from '../../src/domain/actor.ts';

const NOW = '2026-03-12T15:00:00Z';
const inHours = (h: number) => toDbDate(new Date(Date.parse(NOW) + h * 3600_000));

describe('agent dashboard (GET /scp)', () => {
  let t: TestApp;
  let agent: BuiltAgent;
  let other: BuiltAgent;
  let mine: { overdue: string; soon: string; later: string };

  beforeAll(async () => {
    t = await startTestApp({ now: NOW });
    const dept = await buildDepartment(t.db);
    const elsewhere = await buildDepartment(t.db);
    agent = await buildAgent(t.db, { department_id: dept });
    other = await buildAgent(t.db, { department_id: elsewhere });
    const a = agent.id;
    mine = {
      later: (await buildTicket(t.db, { department_id: dept, assignee_agent_id: a, due_at: inHours(30), subject: 'Later <b>one</b>' })).number,
      overdue: (await buildTicket(t.db, { department_id: dept, assignee_agent_id: a, due_at: inHours(-2), is_overdue: true })).number,
      soon: (await buildTicket(t.db, { department_id: dept, assignee_agent_id: a, due_at: inHours(1) })).number,
    };
    await buildTicket(t.db, { department_id: dept, assignee_agent_id: a, status: 'closed', closed_at: inHours(-1) }); // closed: not counted
    await buildTicket(t.db, { department_id: dept, due_at: inHours(3) }); // unassigned, due soon
    await buildTicket(t.db, { department_id: dept, due_at: inHours(5) }); // unassigned, not within 4 h
    await buildTicket(t.db, { department_id: elsewhere, due_at: inHours(2) }); // another department: not visible
    await buildTicket(t.db, { department_id: elsewhere, assignee_agent_id: other.id, is_overdue: true, due_at: inHours(-1) });
  });
  afterAll(async () => t.close());

  const cards = (html: string): Record<string, { count: string; href: string | undefined }> => {
    const page = $(html);
    return Object.fromEntries(page('[data-card]').toArray().map((c) => [page(c).attr('data-card'), { count: page(c).find('strong').text(), href: page(c).attr('href') }]));
  };

  it('sends anonymous visitors to sign in', async () => {
    const res = await request(t.app).get('/scp');
    expect(res.status).toBe(303);
    expect(res.headers.location).toMatch(/^\/scp\/login/);
  });

  it('counts my open, my overdue, due soon and unassigned tickets, each linking to its queue', async () => {
    const res = await (await loginAsAgent(t.app, agent.username, agent.password)).get('/scp');
    expect(res.status).toBe(200);
    expect(cards(res.text)).toEqual({
      mine: { count: '3', href: '/scp/tickets?queue=mine' },
      'my-overdue': { count: '1', href: `/scp/tickets?queue=overdue&assignee=${agent.id}` },
      'due-soon': { count: '2', href: '/scp/tickets?queue=open&sort=due&dir=asc' },
      unassigned: { count: '2', href: '/scp/tickets?queue=unassigned' },
    });
  });

  it('lists my most urgent tickets: overdue first, then by due date, with escaped subjects', async () => {
    const res = await (await loginAsAgent(t.app, agent.username, agent.password)).get('/scp');
    const page = $(res.text);
    const numbers = page('#urgent tbody tr td:first-child').toArray().map((n) => page(n).text().trim());
    expect(numbers).toEqual([`#${mine.overdue}`, `#${mine.soon}`, `#${mine.later}`]);
    expect(page('#urgent tbody tr').first().hasClass('overdue')).toBe(true);
    expect(res.text).toContain('Later &lt;b&gt;one&lt;/b&gt;');
  });

  it('breaks a tie of due dates by priority, the most urgent first (not by the priority\'s id)', async () => {
    const dept = await buildDepartment(t.db);
    const busy = await buildAgent(t.db, { department_id: dept });
    const priority = async (name: string) => (await t.db('priorities').where({ name }).first('id', 'urgency'));
    const [low, high, emergency] = [await priority('Low'), await priority('High'), await priority('Emergency')];
    expect(low.urgency).toBeGreaterThan(high.urgency); // a lower urgency number is more urgent
    const at = inHours(10);
    const lowDue = (await buildTicket(t.db, { department_id: dept, assignee_agent_id: busy.id, due_at: at, priority_id: low.id })).number;
    const highDue = (await buildTicket(t.db, { department_id: dept, assignee_agent_id: busy.id, due_at: at, priority_id: high.id })).number;
    const lowNone = (await buildTicket(t.db, { department_id: dept, assignee_agent_id: busy.id, priority_id: low.id })).number;
    const emergencyNone = (await buildTicket(t.db, { department_id: dept, assignee_agent_id: busy.id, priority_id: emergency.id })).number;
    const res = await (await loginAsAgent(t.app, busy.username, busy.password)).get('/scp');
    const page = $(res.text);
    expect(page('#urgent tbody tr td:first-child').toArray().map((n) => page(n).text().trim())).toEqual([highDue, lowDue, emergencyNone, lowNone].map((n) => `#${n}`));
  });

  it('shows empty states to an agent with nothing to do', async () => {
    const idle = await buildAgent(t.db);
    const res = await (await loginAsAgent(t.app, idle.username, idle.password)).get('/scp');
    expect(Object.values(cards(res.text)).map((c) => (c as { count: string }).count)).toEqual(['0', '0', '0', '0']);
    expect($(res.text)('#urgent-empty').length).toBe(1);
  });

  it('gives an admin the unassigned tickets of every department', async () => {
    const admin = await buildAdmin(t.db);
    const d = await getAgentDashboard(t.ctx(admin.actor));
    expect(d.cards.find((c) => c.id === 'unassigned')!.count).toBe(3);
    expect(d.cards.find((c) => c.id === 'due-soon')!.count).toBe(3);
  });

  it('counts as its queues do, to 1,000 ("1,000+"), in a department of its own', async () => {
    // The bench's admin had 80,000 unassigned open tickets at 1M: counted exactly, 39 ms of MariaDB.
    const big = await buildDepartment(t.db);
    const busy = await buildAgent(t.db, { department_id: big });
    const user = (await t.db('users').first('id')).id;
    const priority = (await t.db('priorities').first('id')).id;
    const ts = toDbDate(new Date(NOW));
    const rows = Array.from({ length: 1001 }, (_, i) => ({
      number: `CAP${i}`, user_id: user, subject: `Capped ${i}`, status: 'open', state: 'open', department_id: big, priority_id: priority,
      source: 'web', sla_started_at: ts, version: 1, created_at: ts, updated_at: ts,
    }));
    for (let i = 0; i < rows.length; i += 250) await t.db('tickets').insert(rows.slice(i, i + 250));
    try {
      const c = await loginAsAgent(t.app, busy.username, busy.password);
      expect(cards((await c.get('/scp')).text).unassigned.count).toBe('1,000+');
      const queue = $((await c.get('/scp/tickets?queue=unassigned')).text);
      expect(queue('[data-queue="unassigned"] .count').text()).toBe('1,000+');
      const d = await getAgentDashboard(t.ctx(busy.actor));
      expect(d.cards.find((x) => x.id === 'unassigned')).toMatchObject({ count: 1001, countText: '1,000+' });
    } finally {
      await t.db('tickets').where('department_id', big).delete();
    }
  });

  it('is for agents only', async () => {
    await expect(getAgentDashboard(t.ctx(ANONYMOUS))).rejects.toMatchObject({ code: 'DASHBOARD_AGENTS_ONLY' });
  });
});
