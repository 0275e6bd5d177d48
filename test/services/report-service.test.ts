import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { buildAdmin, buildAgent, buildDepartment, buildTicket, type BuiltAgent } from '../factories/index.ts';
import { buildReport, type GroupFigures } from '../../src/domain/reports/report-service.ts';
import { ANONYMOUS } from '../../src/domain/actor.ts';
import { Forbidden, ValidationFailed } from '../../src/domain/errors.ts';
import { writeSettings } from '../../src/domain/settings/settings-service.ts';
import { sqlHourOf, toDbDate } from '../../src/db/dialect.ts';
import { percentile } from '../../src/domain/reports/report-stats.ts';
import { statementsDuring } from '../support/statements.ts';

const d = (iso: string) => toDbDate(new Date(iso));
const H = 3600;
const PERIOD = { period: 'custom', from: '2026-03-07', to: '2026-03-10' };

/**
 * Fixtures in America/New_York around the DST change (Sunday 2026-03-08, 02:00 EST → 03:00 EDT).
 * Department A: five tickets opened in the period (three at 23:30 local, i.e. 03:30/04:30 UTC the next
 * day), one opened the minute before it starts but closed inside it, one opened just after it ends.
 */
describe('buildReport', () => {
  let t: TestApp;
  let deptA: number;
  let deptB: number;
  let agentA: BuiltAgent;
  let admin: BuiltAgent;

  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-12T15:00:00Z' });
    await writeSettings(t.db, { timezone: 'America/New_York' }, new Date());
    deptA = await buildDepartment(t.db, { name: 'Alpha desk' });
    deptB = await buildDepartment(t.db, { name: 'Beta desk' });
    agentA = await buildAgent(t.db, { department_id: deptA });
    admin = await buildAdmin(t.db);
    const a = (o: Record<string, unknown>) => buildTicket(t.db, { department_id: deptA, ...o });
    // t1: Sat Mar 7 23:30 EST; answered after 1 h; closed after 6 h, before its due date (met).
    await a({ created_at: d('2026-03-08T04:30:00Z'), first_response_at: d('2026-03-08T05:30:00Z'), status: 'closed', closed_at: d('2026-03-08T10:30:00Z'), due_at: d('2026-03-08T12:00:00Z'), assignee_agent_id: agentA.id });
    // t2: Sun Mar 8 23:30 EDT; answered after 2 h; closed after 24 h (Mon Mar 9 23:30 EDT), after its due date (breached).
    await a({ created_at: d('2026-03-09T03:30:00Z'), first_response_at: d('2026-03-09T05:30:00Z'), status: 'closed', closed_at: d('2026-03-10T03:30:00Z'), due_at: d('2026-03-09T20:00:00Z'), assignee_agent_id: agentA.id });
    // t3: 2026-03-10 03:30 UTC counts on Monday March 9; answered after 3 h; open and overdue; reopened once.
    const t3 = await a({ created_at: d('2026-03-10T03:30:00Z'), first_response_at: d('2026-03-10T06:30:00Z'), due_at: d('2026-03-10T05:00:00Z'), is_overdue: true, source: 'email' });
    // t4: Tue Mar 10 10:00 EDT; answered after 4 h; open.
    await a({ created_at: d('2026-03-10T14:00:00Z'), first_response_at: d('2026-03-10T18:00:00Z'), source: 'phone' });
    // t5: Tue Mar 10 23:30 EDT (Mar 11 UTC): inside the period; not answered.
    await a({ created_at: d('2026-03-11T03:30:00Z') });
    // t6: Wed Mar 11 00:30 EDT: after the period.
    await a({ created_at: d('2026-03-11T04:30:00Z') });
    // t7: Fri Mar 6 23:59 EST: before the period, closed inside it (Sat 01:00) without a due date.
    await a({ created_at: d('2026-03-07T04:59:00Z'), status: 'closed', closed_at: d('2026-03-07T06:00:00Z') });
    // Department B: one ticket, answered after 10 h, closed in time.
    await buildTicket(t.db, { department_id: deptB, created_at: d('2026-03-09T12:00:00Z'), first_response_at: d('2026-03-09T22:00:00Z'), status: 'closed', closed_at: d('2026-03-09T18:00:00Z'), due_at: d('2026-03-09T20:00:00Z') });
    const ev = { ticket_id: t3.id, event: 'reopened', actor_kind: 'user' };
    await t.db('ticket_events').insert([{ ...ev, created_at: d('2026-03-09T12:00:00Z') }, { ...ev, created_at: d('2026-03-11T05:00:00Z') }]);
  });
  afterAll(async () => t.close());

  const row = (groups: GroupFigures[], label: string) => groups.find((g) => g.label === label)!;

  it('counts an agent\'s departments only, on the help desk\'s days across the DST change', async () => {
    const r = await buildReport(t.ctx(agentA.actor), PERIOD);
    expect(r.period).toMatchObject({ from: '2026-03-07', to: '2026-03-10', timezone: 'America/New_York' });
    expect(r.period.start.toISOString()).toBe('2026-03-07T05:00:00.000Z');
    expect(r.period.end.toISOString()).toBe('2026-03-11T04:00:00.000Z');
    expect(r.groups.map((g) => g.label)).toEqual(['Alpha desk']);
    expect(r.total).toMatchObject({ opened: 5, closed: 3, reopened: 1, open: 4, overdue: 1, slaMet: 1, slaBreached: 1, compliance: 50 });
    expect(r.daily).toEqual([
      { day: '2026-03-07', opened: 1, closed: 1 },
      { day: '2026-03-08', opened: 1, closed: 1 },
      { day: '2026-03-09', opened: 1, closed: 1 },
      { day: '2026-03-10', opened: 2, closed: 0 },
    ]);
  });

  it('gives median and 90th-percentile first-response and resolution times', async () => {
    const r = await buildReport(t.ctx(agentA.actor), PERIOD);
    // first responses 1, 2, 3, 4 h; resolutions 1 h 1 min, 6 h, 24 h
    expect(r.total.firstResponse).toEqual({ n: 4, median: 2.5 * H, p90: 3.7 * H });
    expect(r.total.resolution.n).toBe(3);
    expect(r.total.resolution.median).toBe(6 * H);
    expect(r.total.resolution.p90).toBeCloseTo(6 * H + 0.8 * 18 * H, 6);
    expect(row(r.groups, 'Alpha desk').firstResponse).toEqual(r.total.firstResponse);
  });

  it('reports busiest local hours and weekdays and the response-time distribution', async () => {
    const r = await buildReport(t.ctx(agentA.actor), PERIOD);
    expect(r.hours[23]).toBe(4);
    expect(r.hours[10]).toBe(1);
    expect(r.hours.reduce((x, y) => x + y, 0)).toBe(5);
    expect(r.weekdays).toEqual([1, 2, 0, 0, 0, 1, 1]); // Mon … Sun
    expect(r.responseDistribution.map((b) => b.count)).toEqual([1, 3, 0, 0, 0, 0]);
  });

  it('gives an admin every department, with totals and percentiles over all of them', async () => {
    const r = await buildReport(t.ctx(admin.actor), PERIOD);
    expect(row(r.groups, 'Beta desk')).toMatchObject({ opened: 1, closed: 1, slaMet: 1, slaBreached: 0, compliance: 100, firstResponse: { n: 1, median: 10 * H, p90: 10 * H } });
    expect(r.total).toMatchObject({ opened: 6, closed: 4, slaMet: 2, slaBreached: 1 });
    expect(r.total.compliance).toBeCloseTo(200 / 3, 6);
    expect(r.total.firstResponse).toEqual({ n: 5, median: 3 * H, p90: 7.6 * H });
    expect(r.slaByDepartment.map((g) => [g.label, g.compliance])).toEqual([['Alpha desk', 50], ['Beta desk', 100]]);
  });

  it('gives each group\'s and the whole period\'s median and 90th percentile exactly (many tickets with ties, three departments)', async () => {
    // Closed tickets in other departments, in February (outside every other test's period, and never open).
    const depts = [await buildDepartment(t.db, { name: 'Gamma desk' }), await buildDepartment(t.db, { name: 'Delta desk' }), await buildDepartment(t.db, { name: 'Epsilon desk' })];
    const fr = new Map<number, number[]>(depts.map((id) => [id, []]));
    const res = new Map<number, number[]>(depts.map((id) => [id, []]));
    let seed = 7;
    const next = () => (seed = (seed * 48271) % 2147483647);
    for (let i = 0; i < 61; i++) {
      const dept = depts[i % 3 === 0 && i % 2 === 0 ? 2 : i % 3 === 1 ? 0 : 1];
      const created = Date.parse('2026-02-02T10:00:00Z') + (next() % 48) * 3_600_000;
      const answer = 60 * (1 + (next() % 600)); // 1 minute to 10 hours, ties likely
      const close = answer + 60 * (next() % 3000);
      fr.get(dept)!.push(answer);
      res.get(dept)!.push(close);
      await buildTicket(t.db, {
        department_id: dept, created_at: toDbDate(new Date(created)), first_response_at: toDbDate(new Date(created + answer * 1000)),
        status: 'closed', closed_at: toDbDate(new Date(created + close * 1000)),
      });
    }
    const r = await buildReport(t.ctx(admin.actor), { period: 'custom', from: '2026-02-01', to: '2026-02-10' });
    const expected = (values: number[]) => ({ n: values.length, median: percentile(values, 5), p90: percentile(values, 9) });
    for (const [i, name] of ['Gamma desk', 'Delta desk', 'Epsilon desk'].entries()) {
      expect(row(r.groups, name).firstResponse, name).toEqual(expected(fr.get(depts[i])!));
      expect(row(r.groups, name).resolution, name).toEqual(expected(res.get(depts[i])!));
    }
    expect(r.total.firstResponse).toEqual(expected([...fr.values()].flat()));
    expect(r.total.resolution).toEqual(expected([...res.values()].flat()));
    expect(r.total.firstResponse.n).toBe(61);
  });

  it('picks the percentiles\' durations from their buckets exactly when a bucket holds many different ones', async () => {
    // Durations 3,600–3,779 s fall in two buckets of the histogram (each ~6.5 % wide), so the ranks
    // the percentiles need lie inside buckets of many values and are read from the database (the
    // statements with ROW_NUMBER), per group and over both groups.
    const depts = [await buildDepartment(t.db, { name: 'Zeta desk' }), await buildDepartment(t.db, { name: 'Eta desk' })];
    const fr = new Map<number, number[]>(depts.map((id) => [id, []]));
    const res = new Map<number, number[]>(depts.map((id) => [id, []]));
    let seed = 11;
    const next = () => (seed = (seed * 48271) % 2147483647);
    for (let i = 0; i < 47; i++) {
      const dept = depts[next() % 2];
      const created = Date.parse('2026-01-12T10:00:00Z') + (next() % 96) * 3_600_000;
      const answer = 3600 + (next() % 180);
      const close = 3600 + (next() % 90) * 2;
      fr.get(dept)!.push(answer);
      res.get(dept)!.push(close);
      await buildTicket(t.db, {
        department_id: dept, created_at: toDbDate(new Date(created)), first_response_at: toDbDate(new Date(created + answer * 1000)),
        status: 'closed', closed_at: toDbDate(new Date(created + close * 1000)),
      });
    }
    const { result: r, statements } = await statementsDuring(t.db, () => buildReport(t.ctx(admin.actor), { period: 'custom', from: '2026-01-11', to: '2026-01-20' }));
    expect(statements.filter((s) => /ROW_NUMBER\(\) OVER \(PARTITION BY g, b/.test(s.sql)).length).toBe(2);
    expect(statements.filter((s) => /ROW_NUMBER\(\) OVER \(PARTITION BY b/.test(s.sql)).length).toBe(2);
    const expected = (values: number[]) => ({ n: values.length, median: percentile(values, 5), p90: percentile(values, 9) });
    for (const [i, name] of ['Zeta desk', 'Eta desk'].entries()) {
      expect(row(r.groups, name).firstResponse, name).toEqual(expected(fr.get(depts[i])!));
      expect(row(r.groups, name).resolution, name).toEqual(expected(res.get(depts[i])!));
    }
    expect(r.total.firstResponse).toEqual(expected([...fr.values()].flat()));
    expect(r.total.resolution).toEqual(expected([...res.values()].flat()));
    expect(r.total.closed).toBe(47);
  });

  it('puts each timestamp in its own SQL hour, to the millisecond, shifted for zones with half-hour offsets', async () => {
    const cases: [string, number, string][] = [
      ['2026-03-08 10:59:59.999', 0, '2026-03-08T10:00:00Z'],
      ['2026-03-08 11:00:00.000', 0, '2026-03-08T11:00:00Z'],
      ['2026-03-08 10:29:59.999', 30, '2026-03-08T10:00:00Z'],
      ['2026-03-08 10:30:00.000', 30, '2026-03-08T11:00:00Z'],
      ['2026-03-08 10:15:00.000', -30, '2026-03-08T09:00:00Z'],
    ];
    for (const [at, shift, hour] of cases) {
      const row: any = await t.db.from(t.db.raw('(select ? as at) as x', [at])).first({ h: sqlHourOf(t.db, 'x.at', shift) });
      expect(Number(row.h), `${at} + ${shift} min`).toBe(Date.parse(hour) / 3_600_000);
    }
  });

  it('lets an admin narrow to one department', async () => {
    const r = await buildReport(t.ctx(admin.actor), { ...PERIOD, dept: String(deptB) });
    expect(r.total.opened).toBe(1);
  });

  it('groups by agent, topic, source and priority', async () => {
    const byAgent = await buildReport(t.ctx(agentA.actor), { ...PERIOD, group: 'agent' });
    expect(row(byAgent.groups, agentA.actor.name)).toMatchObject({ opened: 2, closed: 2 });
    expect(row(byAgent.groups, 'Unassigned')).toMatchObject({ opened: 3, closed: 1, open: 4 });
    expect(byAgent.slaByDepartment.map((g) => g.label)).toEqual(['Alpha desk']);
    // Grouped otherwise, the SLA table reads the closed tickets by department alone: the same rows as the report by department.
    const byDepartment = await buildReport(t.ctx(agentA.actor), { ...PERIOD, group: 'department' });
    expect(byAgent.slaByDepartment).toEqual(byDepartment.slaByDepartment.map(({ key, label, closed, slaMet, slaBreached, compliance, frMet, frMissed, frCompliance }) => ({ key, label, closed, slaMet, slaBreached, compliance, frMet, frMissed, frCompliance })));
    const bySource = await buildReport(t.ctx(agentA.actor), { ...PERIOD, group: 'source' });
    expect(bySource.groups.map((g) => [g.label, g.opened])).toEqual([['Email', 1], ['Phone', 1], ['Web', 3]]);
    const byTopic = await buildReport(t.ctx(agentA.actor), { ...PERIOD, group: 'topic' });
    expect(byTopic.groups.map((g) => g.label)).toEqual(['No help topic']);
    const byPriority = await buildReport(t.ctx(agentA.actor), { ...PERIOD, group: 'priority' });
    expect(byPriority.groups.map((g) => [g.label, g.opened])).toEqual([['Normal', 5]]);
  });

  it('uses the help desk\'s today for named periods', async () => {
    const r = await buildReport(t.ctx(agentA.actor), { period: '7d' });
    expect(r.period).toMatchObject({ from: '2026-03-06', to: '2026-03-12' });
    expect(r.daily).toHaveLength(7);
    expect(r.total.opened).toBe(7); // t1–t7: t7 (Fri Mar 6 23:59 local) and t6 (Wed Mar 11) are inside now
  });

  describe('forbidden', () => {
    it('refuses a department the agent has no access to', async () => {
      await expect(buildReport(t.ctx(agentA.actor), { ...PERIOD, dept: String(deptB) })).rejects.toMatchObject({ code: 'DEPARTMENT_FORBIDDEN' });
    });
    it('refuses anyone who is not an agent', async () => {
      await expect(buildReport(t.ctx(ANONYMOUS), PERIOD)).rejects.toBeInstanceOf(Forbidden);
    });
  });

  describe('invalid input', () => {
    it.each([
      [{ period: 'year' }, 'period'],
      [{ group: 'customer' }, 'group'],
      [{ period: 'custom', from: '2026-02-30', to: '2026-03-01' }, 'from'],
      [{ period: 'custom', from: '2026-03-02', to: '2026-03-01' }, 'to'],
      [{ period: 'custom', from: '2024-01-01', to: '2026-03-01' }, 'to'],
      [{ period: ['7d', '30d'] }, 'period'],
    ])('refuses %j', async (input, field) => {
      const err = await buildReport(t.ctx(agentA.actor), input).catch((e) => e);
      expect(err).toBeInstanceOf(ValidationFailed);
      expect(Object.keys(err.fields)).toContain(field);
    });
  });
});

describe('percentile', () => {
  it('interpolates between closest ranks', () => {
    expect(percentile([4, 1, 3, 2], 5)).toBe(2.5);
    expect(percentile([1, 2, 3, 4], 9)).toBeCloseTo(3.7, 10);
    expect(percentile([7], 9)).toBe(7);
    expect(percentile([], 5)).toBeNull();
  });
});
