/**
 * First-response compliance in the reports (src/domain/reports/CONTEXT.md): tickets opened in the
 * period with a first-response due date; met when answered no later than it; missed when answered
 * after it, or not answered past it (at closing for a closed or merged ticket, else now); unanswered
 * and not yet due, or without a target: neither. Counted in the statement that counts the opened tickets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { buildAdmin, buildAgent, buildDepartment, buildTicket, type BuiltAgent } from '../factories/index.ts';
import { buildReport, type GroupFigures } from '../../src/domain/reports/report-service.ts';
import { mergeTicket } from '../../src/domain/tickets/ticket-merge.ts';
import { changeTicketStatus } from '../../src/domain/tickets/ticket-agent-service.ts';
import { deleteTicket } from '../../src/domain/tickets/ticket-delete.ts';
import { writeSettings } from '../../src/domain/settings/settings-service.ts';
import { toDbDate } from '../../src/db/dialect.ts';
import { statementsDuring } from '../support/statements.ts';

const d = (iso: string) => toDbDate(new Date(iso));
const NOW = '2026-03-12T15:00:00Z';
const PERIOD = { period: 'custom', from: '2026-03-01', to: '2026-03-12' };

describe('first-response compliance in reports', () => {
  let t: TestApp;
  let deptA: number;
  let deptB: number;
  let agentA: BuiltAgent;
  let admin: BuiltAgent;
  let deletable: number;

  beforeAll(async () => {
    t = await startTestApp({ now: NOW });
    await writeSettings(t.db, { timezone: 'UTC' }, new Date());
    deptA = await buildDepartment(t.db, { name: 'Alpha desk' });
    deptB = await buildDepartment(t.db, { name: 'Beta desk' });
    agentA = await buildAgent(t.db, { department_id: deptA });
    admin = await buildAdmin(t.db);
    const a = (o: Record<string, unknown>) => buildTicket(t.db, { department_id: deptA, ...o });
    const day = (n: number, hm = '10:00') => `2026-03-${String(n).padStart(2, '0')}T${hm}:00Z`;
    // Met: answered half an hour before the target; and answered at the very instant it falls due (agent A's).
    const met = await a({ created_at: d(day(2)), first_response_due_at: d(day(2, '11:00')), first_response_at: d(day(2, '10:30')), assignee_agent_id: agentA.id });
    await a({ created_at: d(day(2)), first_response_due_at: d(day(2, '11:00')), first_response_at: d(day(2, '11:00')) });
    // Missed: answered a minute late (agent A's), resolved since.
    await a({ created_at: d(day(3)), first_response_due_at: d(day(3, '11:00')), first_response_at: d(day(3, '11:01')), status: 'resolved', closed_at: d(day(4)), assignee_agent_id: agentA.id });
    // Missed: never answered, still open, due a week ago.
    await a({ created_at: d(day(5)), first_response_due_at: d(day(5, '12:00')) });
    // Neither: not answered, due tomorrow.
    await a({ created_at: d(day(12, '09:00')), first_response_due_at: d('2026-03-13T09:00:00Z') });
    // Neither: no first-response target (one answered, one not).
    await a({ created_at: d(day(6)), first_response_at: d(day(8)) });
    await a({ created_at: d(day(6)) });
    // Neither: closed unanswered before its target fell due (the requester needed nothing more).
    await a({ created_at: d(day(7)), first_response_due_at: d(day(7, '12:00')), status: 'closed', closed_at: d(day(7, '11:00')) });
    // Missed: closed unanswered after its target.
    await a({ created_at: d(day(7)), first_response_due_at: d(day(7, '12:00')), status: 'closed', closed_at: d(day(7, '13:00')) });
    // Waiting on the requester without an answer: the wait does not move the first-response target (missed, as the ticket page says).
    const waiting = await a({ created_at: d(day(9)), first_response_due_at: d(day(9, '11:00')) });
    await changeTicketStatus(t.ctx(agentA.actor), { ticketId: waiting.id, status: 'pending' });
    // Merged duplicates, through the merge itself (it closes them now): one merged before its target, never due (neither)…
    const before = await a({ created_at: d(day(12, '14:00')), first_response_due_at: d(day(12, '16:00')) });
    await mergeTicket(t.ctx(agentA.actor), { ticketId: before.id, target: met.number });
    // …and one merged after its target passed unanswered (missed).
    const after = await a({ created_at: d(day(10)), first_response_due_at: d(day(10, '11:00')) });
    await mergeTicket(t.ctx(agentA.actor), { ticketId: after.id, target: met.number });
    // Opened before the period, unanswered past its target: not in the period.
    await a({ created_at: d('2026-02-27T10:00:00Z'), first_response_due_at: d('2026-02-27T11:00:00Z') });
    // Beta (not agent A's): one met, one missed, and one missed that is deleted (then counts nowhere).
    await buildTicket(t.db, { department_id: deptB, created_at: d(day(4)), first_response_due_at: d(day(4, '12:00')), first_response_at: d(day(4, '11:00')) });
    await buildTicket(t.db, { department_id: deptB, created_at: d(day(4)), first_response_due_at: d(day(4, '12:00')), first_response_at: d(day(5)) });
    deletable = (await buildTicket(t.db, { department_id: deptB, created_at: d(day(4)), first_response_due_at: d(day(4, '12:00')) })).id;
  });
  afterAll(async () => t.close());

  const row = (groups: GroupFigures[], label: string) => groups.find((g) => g.label === label)!;

  it('counts met, late, unanswered past due (open, waiting, closed or merged after it) and leaves out the rest', async () => {
    const r = await buildReport(t.ctx(agentA.actor), PERIOD);
    expect(r.groups.map((g) => g.label)).toEqual(['Alpha desk']);
    // Met: 2. Missed: late, open past due, closed after due, waiting, merged after due = 5. Compliance 2 ÷ 7.
    expect(r.total).toMatchObject({ opened: 12, frMet: 2, frMissed: 5 });
    expect(r.total.frCompliance).toBeCloseTo(200 / 7, 9);
    expect(row(r.groups, 'Alpha desk')).toMatchObject({ frMet: 2, frMissed: 5 });
    expect(r.slaByDepartment.map((g) => [g.label, g.frMet, g.frMissed])).toEqual([['Alpha desk', 2, 5]]);
  });

  it('judges an unanswered ticket as of now: it becomes missed once its target passes', async () => {
    t.clock.set('2026-03-13T09:00:00Z'); // the instant it is due: not yet missed
    expect((await buildReport(t.ctx(agentA.actor), PERIOD)).total).toMatchObject({ frMet: 2, frMissed: 5 });
    t.clock.set('2026-03-13T09:00:01Z');
    expect((await buildReport(t.ctx(agentA.actor), PERIOD)).total).toMatchObject({ frMet: 2, frMissed: 6 });
    t.clock.set(NOW);
  });

  it('gives each group its own figures, and the SLA table per department the same whatever the grouping', async () => {
    const byAgent = await buildReport(t.ctx(agentA.actor), { ...PERIOD, group: 'agent' });
    expect(row(byAgent.groups, agentA.actor.name)).toMatchObject({ frMet: 1, frMissed: 1, frCompliance: 50 });
    expect(row(byAgent.groups, 'Unassigned')).toMatchObject({ frMet: 1, frMissed: 4, frCompliance: 20 });
    const byDepartment = await buildReport(t.ctx(agentA.actor), PERIOD);
    expect(byAgent.slaByDepartment).toEqual(byDepartment.slaByDepartment.map(({ key, label, closed, slaMet, slaBreached, compliance, frMet, frMissed, frCompliance }) => ({ key, label, closed, slaMet, slaBreached, compliance, frMet, frMissed, frCompliance })));
  });

  it('shows an agent their departments only; an admin every department, a deleted ticket in none', async () => {
    const all = await buildReport(t.ctx(admin.actor), PERIOD);
    expect(row(all.groups, 'Beta desk')).toMatchObject({ frMet: 1, frMissed: 2 });
    expect(all.total).toMatchObject({ frMet: 3, frMissed: 7 });
    expect((await buildReport(t.ctx(admin.actor), { ...PERIOD, dept: String(deptA) })).total).toMatchObject({ frMet: 2, frMissed: 5 });
    const byAgent = await buildReport(t.ctx(admin.actor), { ...PERIOD, group: 'agent' });
    expect(byAgent.slaByDepartment.map((g) => [g.label, g.frMet, g.frMissed])).toEqual([['Alpha desk', 2, 5], ['Beta desk', 1, 2]]);
    await deleteTicket(t.ctx(admin.actor), { ticketId: deletable });
    expect(row((await buildReport(t.ctx(admin.actor), PERIOD)).groups, 'Beta desk')).toMatchObject({ opened: 2, frMet: 1, frMissed: 1, frCompliance: 50 });
  });

  it('gives no compliance ("—") when nothing qualified, and lists a department in the SLA table for its first responses alone', async () => {
    const r = await buildReport(t.ctx(agentA.actor), { period: 'custom', from: '2026-03-11', to: '2026-03-12' });
    // Opened then: the ticket due tomorrow and the duplicate merged before its target.
    expect(r.total).toMatchObject({ opened: 2, frMet: 0, frMissed: 0, frCompliance: null });
    const nothingClosed = await buildReport(t.ctx(agentA.actor), { period: 'custom', from: '2026-03-09', to: '2026-03-09', group: 'source' });
    expect(nothingClosed.slaByDepartment).toEqual([expect.objectContaining({ label: 'Alpha desk', closed: 0, frMet: 0, frMissed: 1, compliance: null, frCompliance: 0 })]);
  });

  it('judges first responses in the statements that already count the opened tickets (none added)', async () => {
    for (const group of ['department', 'agent']) {
      const { statements } = await statementsDuring(t.db, () => buildReport(t.ctx(agentA.actor), { ...PERIOD, group }));
      const verdicts = statements.filter((s) => /first_response_due_at/.test(s.sql));
      // By department: the opened tickets' read. Grouped otherwise, also the SLA table's read per department (which was already one statement).
      expect(verdicts.length, group).toBe(group === 'department' ? 1 : 2);
      expect(verdicts.every((s) => /count\(\*\)/i.test(s.sql)), group).toBe(true);
      // As many statements as before the first-response figures (the settings, seven reads side by side, the group names; grouped otherwise, the SLA table's read and its departments' names too).
      expect(statements.length, group).toBe(group === 'department' ? 9 : 11);
    }
  });
});
