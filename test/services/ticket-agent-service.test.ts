import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statementsDuring } from '../support/statements.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { buildAgent, buildAdmin, buildDepartment, buildSlaPlan, buildTicket, buildTopic } from '../factories/index.ts';
import { openTicket, addUserMessage } from '../../src/domain/tickets/ticket-service.ts';
import {
  addInternalNote, assignTicket, changeTicketPriority, changeTicketSla, changeTicketStatus, claimTicket, editTicket,
  openTicketForUser, releaseTicket, replyToTicket, setTicketDueDate, transferTicket,
} from '../../src/domain/tickets/ticket-agent-service.ts';
import { listQueue } from '../../src/domain/tickets/ticket-queue-queries.ts';
import { getTicketForAgent, getAttachmentForAgent } from '../../src/domain/tickets/ticket-agent-view.ts';
import { ANONYMOUS, SYSTEM, type ApiActor } from '../../src/domain/actor.ts';
import { Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed } from '../../src/domain/errors.ts';
import { dbBool, dbDate, toDbDate } from '../../src/db/dialect.ts';
import { writeSettings } from '../../src/domain/settings/settings-service.ts';

const NOW = '2026-03-02T10:00:00.000Z';
const iso = (v: unknown) => dbDate(v)?.toISOString() ?? null;

describe('agent ticket actions (services)', () => {
  let t: TestApp;
  let support: number;
  let banking: number;
  let john: Awaited<ReturnType<typeof buildAgent>>;
  let jane: Awaited<ReturnType<typeof buildAgent>>;
  let sevA: number;
  const api: ApiActor = { kind: 'api', keyId: 1, canCreateTickets: true, canManageTickets: true };
  const row = (id: number) => t.db('tickets').where({ id }).first();
  const events = (id: number) => t.db('ticket_events').where({ ticket_id: id }).orderBy('id').pluck('event');
  const open = (extra: Record<string, unknown> = {}) =>
    openTicket(t.ctx(ANONYMOUS), { email: 'pat@example.com', name: 'Pat', subject: 'Entire mobile/online banking system is down', message: 'Nothing works', ...extra });

  beforeAll(async () => {
    t = await startTestApp({ now: NOW });
    support = (await t.db('departments').where({ name: 'Support' }).first()).id;
    banking = await buildDepartment(t.db, { name: 'Online Banking' });
    sevA = await buildSlaPlan(t.db, { name: 'Sev-A', grace_minutes: 60 });
    john = await buildAgent(t.db, { department_id: support, name: 'John' });
    jane = await buildAgent(t.db, { department_id: banking, name: 'Jane' });
  });
  afterAll(async () => t.close());

  describe('replyToTicket', () => {
    it('posts a response, emails the user, marks answered, sets first/last response, auto-claims', async () => {
      const o = await open();
      t.clock.set('2026-03-02T10:05:00Z');
      const r = await replyToTicket(t.ctx(john.actor), { ticketId: o.id, version: 1, message: 'We are on it' });
      const tk = await row(o.id);
      expect(r.version).toBe(2);
      expect(tk).toMatchObject({ version: 2, assignee_agent_id: john.id });
      expect(dbBool(tk.is_answered)).toBe(true);
      expect(iso(tk.first_response_at)).toBe('2026-03-02T10:05:00.000Z');
      const entry = await t.db('thread_entries').where({ id: r.entryId }).first();
      expect(entry).toMatchObject({ kind: 'response', agent_id: john.id, poster_name: 'John', body: 'We are on it' });
      expect(await events(o.id)).toEqual(['created', 'response', 'claimed']);
      const mail = await t.db('outbox').where({ ticket_id: o.id, template: 'agent-response' });
      expect(mail).toHaveLength(1);
      expect(mail[0].to_address).toBe('pat@example.com');
      // A second reply keeps first_response_at, moves last_response_at; a user message marks it unanswered.
      t.clock.set('2026-03-02T10:20:00Z');
      await replyToTicket(t.ctx(john.actor), { ticketId: o.id, message: 'More' });
      const tk2 = await row(o.id);
      expect(iso(tk2.first_response_at)).toBe('2026-03-02T10:05:00.000Z');
      expect(iso(tk2.last_response_at)).toBe('2026-03-02T10:20:00.000Z');
      await addUserMessage(t.ctx(SYSTEM), { ticketId: o.id, message: 'Still down' });
      expect(dbBool((await row(o.id)).is_answered)).toBe(false);
      t.clock.set(NOW);
    });

    it('does not claim when auto_claim_on_reply is off, and does not email with notifyUser false', async () => {
      await writeSettings(t.db, { auto_claim_on_reply: false }, new Date());
      const o = await open();
      await replyToTicket(t.ctx(john.actor), { ticketId: o.id, message: 'Quietly', notifyUser: 'none' });
      expect((await row(o.id)).assignee_agent_id).toBeNull();
      expect(await t.db('outbox').where({ ticket_id: o.id, template: 'agent-response' })).toHaveLength(0);
      await writeSettings(t.db, { auto_claim_on_reply: true }, new Date());
    });

    it('may set the status in the same step', async () => {
      const o = await open();
      await replyToTicket(t.ctx(john.actor), { ticketId: o.id, message: 'Fixed', status: 'resolved' });
      const tk = await row(o.id);
      expect(tk).toMatchObject({ status: 'resolved', state: 'closed' });
      expect(await events(o.id)).toEqual(['created', 'response', 'claimed', 'resolved']);
    });

    it('refuses a stale version, an empty reply, another department, and a user actor', async () => {
      const o = await open();
      await changeTicketPriority(t.ctx(john.actor), { ticketId: o.id, priorityId: (await t.db('priorities').where({ name: 'High' }).first()).id });
      const stale = await replyToTicket(t.ctx(john.actor), { ticketId: o.id, version: 1, message: 'x' }).catch((e) => e);
      expect(stale).toBeInstanceOf(Conflict);
      expect(stale.code).toBe('TICKET_CHANGED');
      expect((await replyToTicket(t.ctx(john.actor), { ticketId: o.id, message: '  ' }).catch((e) => e)).fields).toHaveProperty('message');
      await expect(replyToTicket(t.ctx(jane.actor), { ticketId: o.id, message: 'x' })).rejects.toBeInstanceOf(NotFound);
      await expect(replyToTicket(t.ctx({ kind: 'user', id: 1, email: 'pat@example.com', name: 'Pat' }), { ticketId: o.id, message: 'x' })).rejects.toBeInstanceOf(Forbidden);
      await expect(replyToTicket(t.ctx({ ...api, canManageTickets: false }), { ticketId: o.id, message: 'x' })).rejects.toBeInstanceOf(Forbidden);
      expect(await t.db('thread_entries').where({ ticket_id: o.id, kind: 'response' })).toHaveLength(0);
    });

    it('lets the API (as "API") and the system reply', async () => {
      const o = await open();
      const r = await replyToTicket(t.ctx(api), { ticketId: o.id, message: 'From the API' });
      expect(await t.db('thread_entries').where({ id: r.entryId }).first()).toMatchObject({ poster_name: 'API', agent_id: null, source: 'api' });
      expect((await row(o.id)).assignee_agent_id).toBeNull();
      await expect(addInternalNote(t.ctx(SYSTEM), { ticketId: o.id, note: 'sys' })).resolves.toMatchObject({ changed: true });
    });
  });

  describe('addInternalNote', () => {
    it('adds a note, never emails the user', async () => {
      const o = await open();
      const before = await t.db('outbox').where({ ticket_id: o.id }).count({ n: '*' });
      const r = await addInternalNote(t.ctx(john.actor), { ticketId: o.id, version: 1, note: 'Checked the logs' });
      expect(await t.db('thread_entries').where({ id: r.entryId }).first()).toMatchObject({ kind: 'note', body: 'Checked the logs' });
      expect(await t.db('outbox').where({ ticket_id: o.id }).count({ n: '*' })).toEqual(before);
      expect(dbBool((await row(o.id)).is_answered)).toBe(false);
    });
  });

  describe('assign, claim, release', () => {
    it('assigns to an agent of the department and alerts them; refuses an agent of another department', async () => {
      const o = await open();
      const mate = await buildAgent(t.db, { department_id: support });
      await assignTicket(t.ctx(john.actor), { ticketId: o.id, assignee: `agent:${mate.id}`, comment: 'Yours' });
      expect((await row(o.id)).assignee_agent_id).toBe(mate.id);
      expect(await t.db('outbox').where({ ticket_id: o.id, template: 'assigned-alert', to_address: mate.email })).toHaveLength(1);
      expect(await t.db('thread_entries').where({ ticket_id: o.id, kind: 'note', body: 'Yours' })).toHaveLength(1);
      const err = await assignTicket(t.ctx(john.actor), { ticketId: o.id, agentId: jane.id }).catch((e) => e);
      expect(err).toBeInstanceOf(ValidationFailed);
      expect(err.fields).toHaveProperty('assignee');
      await expect(assignTicket(t.ctx(john.actor), { ticketId: o.id, agentId: mate.id })).rejects.toBeInstanceOf(InvalidTransition);
      await expect(assignTicket(t.ctx(john.actor), { ticketId: o.id })).rejects.toBeInstanceOf(ValidationFailed);
    });

    it('assigns to a team; team members see it', async () => {
      const o = await open();
      const [teamId] = await t.db('teams').insert({ name: 'Tier 2', is_active: true, created_at: toDbDate(new Date()), updated_at: toDbDate(new Date()) });
      const member = await buildAgent(t.db, { teamIds: [teamId] });
      await expect(getTicketForAgent(t.ctx(member.actor), o.id)).rejects.toBeInstanceOf(NotFound);
      await assignTicket(t.ctx(john.actor), { ticketId: o.id, assignee: `team:${teamId}` });
      expect((await row(o.id)).team_id).toBe(teamId);
      const view = await getTicketForAgent(t.ctx(member.actor), o.id);
      expect(view.ticket.team?.name).toBe('Tier 2');
      expect((await listQueue(t.ctx(member.actor), { queue: 'mine' })).rows.map((r) => r.id)).toContain(o.id);
      expect(await events(o.id)).toContain('team_assigned');
    });

    it('claims and releases; refuses claims that are not possible', async () => {
      const o = await open();
      await claimTicket(t.ctx(john.actor), { ticketId: o.id, version: 1 });
      expect((await row(o.id)).assignee_agent_id).toBe(john.id);
      await expect(claimTicket(t.ctx(john.actor), { ticketId: o.id })).rejects.toMatchObject({ code: 'ALREADY_ASSIGNED' });
      await releaseTicket(t.ctx(john.actor), { ticketId: o.id });
      expect((await row(o.id)).assignee_agent_id).toBeNull();
      await expect(releaseTicket(t.ctx(john.actor), { ticketId: o.id })).rejects.toMatchObject({ code: 'NOT_ASSIGNED' });
      await expect(claimTicket(t.ctx(api), { ticketId: o.id })).rejects.toBeInstanceOf(Forbidden);
      await expect(claimTicket(t.ctx(jane.actor), { ticketId: o.id })).rejects.toBeInstanceOf(NotFound);
      expect(await events(o.id)).toEqual(['created', 'claimed', 'released']);
    });
  });

  describe('transferTicket', () => {
    it('moves the ticket, records names, alerts the new department, reports lost access', async () => {
      const o = await open();
      const r = await transferTicket(t.ctx(john.actor), { ticketId: o.id, departmentId: banking, comment: 'Banking outage' });
      expect(r.canStillSee).toBe(false);
      expect((await row(o.id)).department_id).toBe(banking);
      const ev = await t.db('ticket_events').where({ ticket_id: o.id, event: 'transferred' }).first();
      expect(JSON.parse(ev.data)).toMatchObject({ from: 'Support', to: 'Online Banking' });
      expect(await t.db('outbox').where({ ticket_id: o.id, template: 'transfer-alert', to_address: jane.email })).toHaveLength(1);
      await expect(getTicketForAgent(t.ctx(john.actor), o.id)).rejects.toBeInstanceOf(NotFound);
      await expect(transferTicket(t.ctx(jane.actor), { ticketId: o.id, departmentId: banking })).rejects.toMatchObject({ code: 'SAME_DEPARTMENT' });
      await expect(transferTicket(t.ctx(jane.actor), { ticketId: o.id, departmentId: 99999 })).rejects.toBeInstanceOf(ValidationFailed);
    });
  });

  describe('priority, SLA, due date', () => {
    it('changes the SLA plan and recomputes the due date from sla_started_at', async () => {
      const o = await open();
      t.clock.set('2026-03-02T10:30:00Z');
      await changeTicketSla(t.ctx(john.actor), { ticketId: o.id, version: 1, slaPlanId: sevA });
      const tk = await row(o.id);
      expect(tk.sla_plan_id).toBe(sevA);
      expect(iso(tk.due_at)).toBe('2026-03-02T11:00:00.000Z');
      expect(iso(tk.sla_due_at)).toBe('2026-03-02T11:00:00.000Z');
      expect(await changeTicketSla(t.ctx(john.actor), { ticketId: o.id, slaPlanId: sevA })).toMatchObject({ changed: false });
      await expect(changeTicketSla(t.ctx(john.actor), { ticketId: o.id, slaPlanId: 424242 })).rejects.toBeInstanceOf(ValidationFailed);
      t.clock.set(NOW);
    });

    it('a manual due date wins; removing it goes back to the SLA; moving it later clears overdue', async () => {
      const o = await open();
      await t.db('tickets').where({ id: o.id }).update({ is_overdue: true });
      await setTicketDueDate(t.ctx(john.actor), { ticketId: o.id, dueAt: '2026-03-05T09:00' });
      let tk = await row(o.id);
      expect(iso(tk.manual_due_at)).toBe('2026-03-05T09:00:00.000Z');
      expect(iso(tk.due_at)).toBe('2026-03-05T09:00:00.000Z');
      expect(dbBool(tk.is_overdue)).toBe(false);
      expect(await events(o.id)).toEqual(['created', 'due_changed', 'overdue_cleared']);
      await setTicketDueDate(t.ctx(john.actor), { ticketId: o.id, dueAt: '' });
      tk = await row(o.id);
      expect(tk.manual_due_at).toBeNull();
      expect(iso(tk.due_at)).toBe(iso(tk.sla_due_at));
      expect((await setTicketDueDate(t.ctx(john.actor), { ticketId: o.id, dueAt: '2026-03-01T09:00' }).catch((e) => e)).fields).toHaveProperty('dueAt');
      expect((await setTicketDueDate(t.ctx(john.actor), { ticketId: o.id, dueAt: 'soon' }).catch((e) => e)).fields).toHaveProperty('dueAt');
    });

    it('changes the priority and refuses an unknown one', async () => {
      const o = await open();
      const high = (await t.db('priorities').where({ name: 'High' }).first()).id;
      await changeTicketPriority(t.ctx(john.actor), { ticketId: o.id, priorityId: String(high) });
      expect((await row(o.id)).priority_id).toBe(high);
      await expect(changeTicketPriority(t.ctx(john.actor), { ticketId: o.id, priorityId: '0' })).rejects.toBeInstanceOf(ValidationFailed);
    });
  });

  describe('changeTicketStatus', () => {
    it('closes (closed_at, overdue cleared, user told) and reopens (SLA restarted, reopen_count)', async () => {
      const o = await open();
      await t.db('tickets').where({ id: o.id }).update({ is_overdue: true });
      t.clock.set('2026-03-02T12:00:00Z');
      await changeTicketStatus(t.ctx(john.actor), { ticketId: o.id, status: 'closed' });
      let tk = await row(o.id);
      expect(tk).toMatchObject({ status: 'closed', state: 'closed' });
      expect(iso(tk.closed_at)).toBe('2026-03-02T12:00:00.000Z');
      expect(dbBool(tk.is_overdue)).toBe(false);
      expect(await t.db('outbox').where({ ticket_id: o.id, template: 'ticket-closed' })).toHaveLength(1);
      await expect(changeTicketStatus(t.ctx(john.actor), { ticketId: o.id, status: 'closed' })).rejects.toMatchObject({ code: 'SAME_STATUS' });
      t.clock.set('2026-03-03T08:00:00Z');
      await changeTicketStatus(t.ctx(john.actor), { ticketId: o.id, status: 'open' });
      tk = await row(o.id);
      expect(tk).toMatchObject({ status: 'open', state: 'open', reopen_count: 1, closed_at: null });
      expect(iso(tk.sla_started_at)).toBe('2026-03-03T08:00:00.000Z');
      expect(iso(tk.due_at)).toBe('2026-03-04T02:00:00.000Z');
      expect(await events(o.id)).toEqual(['created', 'closed', 'reopened']);
      await expect(changeTicketStatus(t.ctx(john.actor), { ticketId: o.id, status: 'on-hold' as any })).rejects.toBeInstanceOf(ValidationFailed);
      t.clock.set(NOW);
    });
  });

  describe('editTicket', () => {
    it('edits subject and topic with the change in the history', async () => {
      const o = await open();
      const topic = await buildTopic(t.db, { name: 'Outage' });
      await editTicket(t.ctx(john.actor), { ticketId: o.id, subject: 'Banking down', topicId: String(topic) });
      expect(await row(o.id)).toMatchObject({ subject: 'Banking down', topic_id: topic });
      const ev = await t.db('ticket_events').where({ ticket_id: o.id, event: 'edited' }).first();
      expect(JSON.parse(ev.data)).toMatchObject({ subject: { to: 'Banking down' }, topic: { from: null, to: 'Outage' } });
      expect((await editTicket(t.ctx(john.actor), { ticketId: o.id, subject: '' }).catch((e) => e)).fields).toHaveProperty('subject');
    });
  });

  describe('openTicketForUser', () => {
    it('opens a phone ticket for a new user, assigned, with a first reply and a note, without emailing', async () => {
      const res = await openTicketForUser(t.ctx(john.actor), {
        email: 'Caller@Example.com', name: 'Caller', phone: '555-0100', source: 'phone', subject: 'Cannot log in', message: 'Called at 10:00',
        departmentId: String(support), slaPlanId: String(sevA), assigneeId: String(john.id), reply: 'Reset your password', note: 'Verified identity',
      });
      const tk = await row(res.id);
      expect(tk).toMatchObject({ source: 'phone', department_id: support, sla_plan_id: sevA, assignee_agent_id: john.id });
      expect(await t.db('thread_entries').where({ ticket_id: res.id }).orderBy('id').pluck('kind')).toEqual(['message', 'response', 'note']);
      expect(await t.db('outbox').where({ ticket_id: res.id, to_address: 'caller@example.com' })).toHaveLength(0);
      expect((await t.db('users').where({ id: res.userId }).first()).phone).toBe('555-0100');
    });

    it('reports every field error at once and writes nothing', async () => {
      const before = await t.db('tickets').count({ n: '*' });
      const err = await openTicketForUser(t.ctx(john.actor), { email: 'bad', name: '', subject: '', message: '', source: 'fax' }).catch((e) => e);
      expect(err).toBeInstanceOf(ValidationFailed);
      expect(Object.keys(err.fields).sort()).toEqual(['email', 'message', 'name', 'source', 'subject']);
      const dept = await openTicketForUser(t.ctx(john.actor), { email: 'a@b.test', name: 'A', subject: 'S', message: 'M', departmentId: String(banking) }).catch((e) => e);
      expect(dept.fields).toHaveProperty('departmentId');
      expect(await t.db('tickets').count({ n: '*' })).toEqual(before);
    });
  });

  describe('queues', () => {
    it('a queue page needs at most 5 SQL statements', async () => {
      const sql: string[] = [];
      const listener = (q: { sql: string }) => sql.push(q.sql);
      t.db.on('query', listener);
      await listQueue(t.ctx(john.actor), { queue: 'open', q: 'down', dept: String(support), sort: 'priority' });
      t.db.removeListener('query', listener);
      expect(sql.length).toBeLessThanOrEqual(5);
    });

    it('scopes queues to the agent (admin sees all) and counts each queue', async () => {
      const other = await buildDepartment(t.db);
      const hidden = await buildTicket(t.db, { department_id: other });
      const admin = await buildAdmin(t.db);
      expect((await listQueue(t.ctx(john.actor), { queue: 'open' })).rows.map((r) => r.id)).not.toContain(hidden.id);
      const all = await listQueue(t.ctx(admin.actor), { queue: 'open', dept: String(other) });
      expect(all.rows.map((r) => r.id)).toEqual([hidden.id]);
      expect(all.counts.open).toBe(1);
      expect(all.counts.unassigned).toBe(1);
      await expect(listQueue(t.ctx(ANONYMOUS), {})).rejects.toBeInstanceOf(Forbidden);
    });

    it('filters by status within the queue\'s state; a status of the other state finds nothing without testing a ticket', async () => {
      const dept = await buildDepartment(t.db);
      const admin = await buildAdmin(t.db);
      const open = await buildTicket(t.db, { department_id: dept });
      const resolved = await buildTicket(t.db, { department_id: dept, status: 'resolved' });
      const closed = await buildTicket(t.db, { department_id: dept, status: 'closed' });
      const waiting = await buildTicket(t.db, { department_id: dept, status: 'pending' });
      let sql: string[] = [];
      const page = async (p: Record<string, string>) => {
        const { result: r, statements } = await statementsDuring(t.db, () => listQueue(t.ctx(admin.actor), { dept: String(dept), ...p }));
        sql = statements.map((s) => s.sql);
        return { ids: r.rows.map((row) => row.id), total: r.total, testsStatus: sql.some((s) => /`t`\.`status` = \?/.test(s)) };
      };
      // Each state has two statuses (open: open and waiting on the requester): a real filter.
      expect(await page({ queue: 'closed', status: 'resolved' })).toEqual({ ids: [resolved.id], total: 1, testsStatus: true });
      expect(await page({ queue: 'closed', status: 'closed' })).toEqual({ ids: [closed.id], total: 1, testsStatus: true });
      expect(await page({ queue: 'open', status: 'open' })).toEqual({ ids: [open.id], total: 1, testsStatus: true });
      expect(await page({ queue: 'open', status: 'pending' })).toEqual({ ids: [waiting.id], total: 1, testsStatus: true });
      expect((await page({ queue: 'open' })).ids.sort()).toEqual([open.id, waiting.id].sort());
      // Another state's status: nothing, and no ticket is read to find that out (1 = 0).
      expect(await page({ queue: 'open', status: 'closed' })).toEqual({ ids: [], total: 0, testsStatus: false });
      expect(await page({ queue: 'closed', status: 'open' })).toEqual({ ids: [], total: 0, testsStatus: false });
      expect(sql.some((s) => /1 = 0/.test(s))).toBe(true);
    });

    it('refuses an attachment of a ticket the agent cannot see', async () => {
      const o = await openTicket(t.ctx(ANONYMOUS), { email: 'f@example.com', name: 'F', subject: 'File', message: 'see file' }, [{ filename: 'log.txt', contentType: 'text/plain', data: Buffer.from('hello') }]);
      const att = await t.db('attachments').where({ ticket_id: o.id }).first();
      expect((await getAttachmentForAgent(t.ctx(john.actor), att.id)).data.toString()).toBe('hello');
      await expect(getAttachmentForAgent(t.ctx(jane.actor), att.id)).rejects.toMatchObject({ code: 'ATTACHMENT_NOT_FOUND' });
    });
  });
});
