/**
 * Tasks: a ticket's internal to-dos. Agents add them (agent of the department, due date), tick them
 * off, open them again, remove open ones; open tasks keep the ticket from being resolved or closed
 * (the reply typed with it is kept); the requester never sees them; a merge takes them along.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { $, client, csrfFrom, loginAsAgent, type Client, ticketAction } from '../support/http.ts';
import { buildAgent, buildDepartment } from '../factories/index.ts';
import { openTicket } from '../../src/domain/tickets/ticket-service.ts';
import { ANONYMOUS } from '../../src/domain/actor.ts';
import { openViaStatus } from './portal-support.ts';

const act = ticketAction;

describe('ticket tasks', () => {
  let t: TestApp;
  let john: Awaited<ReturnType<typeof buildAgent>>;
  let mary: Awaited<ReturnType<typeof buildAgent>>;
  let jane: Awaited<ReturnType<typeof buildAgent>>;
  let johnC: Client;
  const row = (id: number) => t.db('tickets').where({ id }).first();
  const tasksOf = (id: number) => t.db('ticket_tasks').where({ ticket_id: id }).orderBy('id');
  const open = (subject = 'Replace the card reader') => openTicket(t.ctx(ANONYMOUS), { email: 'pat@example.com', name: 'Pat', subject, message: 'Branch 12 reader is broken.' });

  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
    const support = (await t.db('departments').where({ name: 'Support' }).first()).id;
    const banking = await buildDepartment(t.db, { name: 'Online Banking' });
    john = await buildAgent(t.db, { department_id: support, name: 'John', username: 'john' });
    mary = await buildAgent(t.db, { department_id: support, name: 'Mary', username: 'mary' });
    jane = await buildAgent(t.db, { department_id: banking, name: 'Jane', username: 'jane' });
    johnC = await loginAsAgent(t.app, john.username, john.password);
  });
  afterAll(async () => t.close());
  beforeEach(async () => {
    await t.db('rate_limits').delete();
  });

  it('an agent adds a task for a colleague with a due date: listed, in the history, the version bumped', async () => {
    const o = await open();
    const res = await act(johnC, o.id, 'task', { title: 'Order a replacement reader', taskAssigneeId: String(mary.id), taskDueAt: '2026-03-03T09:00' });
    expect(res.status).toBe(303);
    expect(await tasksOf(o.id)).toMatchObject([{ title: 'Order a replacement reader', assignee_agent_id: mary.id }]);
    expect((await row(o.id)).version).toBe(2);
    const page = $((await johnC.get(`/scp/tickets/${o.id}`)).text);
    expect(page('.ticket-tasks h2').text()).toContain('1 open of 1');
    expect(page('.task-list li').text()).toContain('Order a replacement reader');
    expect(page('.task-list li').text()).toContain('Mary · due 2026-03-03 09:00');
    expect(page('.events').text()).toContain('Task added: “Order a replacement reader” for Mary, due 2026-03-03 09:00');
  });

  it('the agent a task is for is mailed (not when they gave it themselves) and finds it on their dashboard until it is done', async () => {
    const o = await open('Dashboard task');
    await act(johnC, o.id, 'task', { title: 'Swap the reader', taskAssigneeId: String(mary.id), taskDueAt: '2026-03-01T09:00' });
    await act(johnC, o.id, 'task', { title: 'Note for myself', taskAssigneeId: String(john.id) });
    const alerts = await t.db('outbox').where({ ticket_id: o.id, template: 'task-alert' }).select('to_address', 'text_body');
    expect(alerts.map((m: any) => m.to_address)).toEqual([mary.email]);
    expect(alerts[0].text_body).toContain('John gave you a task on ticket');
    expect(alerts[0].text_body).toContain('Swap the reader');
    const maryC = await loginAsAgent(t.app, mary.username, mary.password);
    const dash = $((await maryC.get('/scp')).text);
    expect(dash('#my-tasks li').text()).toContain('Swap the reader');
    expect(dash('#my-tasks li').text()).toContain(`#${o.number} Dashboard task`);
    expect(dash('#my-tasks .badge-overdue').text()).toBe('Late'); // due yesterday
    expect($((await johnC.get('/scp')).text)('#my-tasks li').text()).not.toContain('Swap the reader');
    const [task] = await t.db('ticket_tasks').where({ ticket_id: o.id, title: 'Swap the reader' });
    await act(maryC, o.id, 'taskset', { taskId: String(task.id), to: 'done' });
    expect($((await maryC.get('/scp')).text)('main').text()).not.toContain('Swap the reader');
    // An agent with no open task is told so.
    const janeC = await loginAsAgent(t.app, jane.username, jane.password);
    expect($((await janeC.get('/scp')).text)('#tasks-empty').text()).toContain('No open tasks for you');
  });

  it('refuses an empty task, an agent of another department and a bad date, keeping the input', async () => {
    const o = await open();
    const empty = $((await act(johnC, o.id, 'task', { title: ' ', taskDueAt: '2026-03-05T10:00' })).text);
    expect(empty('#e-task-title').text()).toContain('Task is required');
    expect(empty('#f-taskDueAt').val()).toBe('2026-03-05T10:00');
    const other = await act(johnC, o.id, 'task', { title: 'Ask banking', taskAssigneeId: String(jane.id) });
    expect(other.status).toBe(422);
    expect($(other.text)('#e-taskAssigneeId').text()).toContain('Choose an agent of the ticket’s department');
    expect($(other.text)('#f-task-title').val()).toBe('Ask banking');
    const bad = await act(johnC, o.id, 'task', { title: 'Bad date', taskDueAt: 'tomorrow' });
    expect($(bad.text)('#e-taskDueAt').text()).toContain('valid date');
    expect(await tasksOf(o.id)).toEqual([]);
  });

  it('an open task keeps the ticket from being resolved or closed; the reply typed with "close" is kept and not posted', async () => {
    const o = await open();
    await act(johnC, o.id, 'task', { title: 'Call the branch back' });
    const close = await act(johnC, o.id, 'status', { status: 'closed' });
    expect(close.status).toBe(422);
    expect($(close.text)('#form-errors').text()).toContain('This ticket has 1 open task: tick it off or remove it before you close it');
    const resolve = await act(johnC, o.id, 'status', { status: 'resolved' });
    expect($(resolve.text)('#form-errors').text()).toContain('before you resolve it');
    const reply = await act(johnC, o.id, 'reply', { message: 'All fixed, closing.', notifyUser: 'none', status: 'closed' });
    expect(reply.status).toBe(422);
    expect($(reply.text)('#f-message').val()).toBe('All fixed, closing.');
    expect($(reply.text)('#e-status').text()).toContain('open task');
    expect(await t.db('thread_entries').where({ ticket_id: o.id, kind: 'response' }).first()).toBeUndefined();
    expect((await row(o.id)).status).toBe('open');

    const [task] = await tasksOf(o.id);
    expect((await act(johnC, o.id, 'taskset', { taskId: String(task.id), to: 'done' })).status).toBe(303);
    expect((await act(johnC, o.id, 'reply', { message: 'All fixed, closing.', notifyUser: 'none', status: 'closed' })).status).toBe(303);
    expect((await row(o.id)).status).toBe('closed');
    const page = $((await johnC.get(`/scp/tickets/${o.id}`)).text);
    expect(page('.events').text()).toContain('Task done: “Call the branch back”');
    expect(page('.task-list .task-done s').text()).toBe('Call the branch back');
  });

  it('the requester closing on the portal while tasks are open: the ticket stays open, the request is an internal event, the requester is thanked (no word of tasks); asked again, nothing more; after the tasks their close closes it', async () => {
    const o = await open('Card reader, branch 7');
    await act(johnC, o.id, 'task', { title: 'Order a reader' });
    await act(johnC, o.id, 'task', { title: 'Fit the reader' });
    // John answered and waits on the requester (answered, SLA clock stopped).
    expect((await act(johnC, o.id, 'reply', { message: 'Does the spare one work?', notifyUser: 'none', status: 'pending' })).status).toBe(303);
    const waiting = await row(o.id);
    expect(waiting).toMatchObject({ status: 'pending', state: 'open' });
    expect(Boolean(waiting.is_answered)).toBe(true);

    const pat = client(t.app);
    await openViaStatus(pat, 'pat@example.com', o.number);
    const close = async () => pat.post(`/tickets/${o.number}/close`).type('form').send({ _csrf: await csrfFrom(pat, `/tickets/${o.number}`) });
    const res = await close();
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/tickets/${o.number}`);
    const page = $((await pat.get(res.headers.location)).text);
    const said = page('.flash').text();
    expect(said).toContain('will close it when that is done');
    expect(said).not.toMatch(/task/i);
    expect(page('form.close-ticket').length).toBe(1); // still open for them too
    // Still open for the agents, no longer waiting nor answered, one version on.
    const after = await row(o.id);
    expect(after).toMatchObject({ status: 'open', state: 'open', closed_at: null, version: Number(waiting.version) + 1 });
    expect(Boolean(after.is_answered)).toBe(false);
    const events = (await t.db('ticket_events').where({ ticket_id: o.id }).orderBy('id', 'desc').limit(2).select('event', 'actor_kind', 'data')).reverse();
    expect(events.map((e) => [e.event, e.actor_kind, JSON.parse(e.data)])).toEqual([
      ['status_changed', 'user', expect.objectContaining({ from: 'pending', to: 'open', by: 'close_request', userId: after.user_id })],
      ['close_requested', 'user', { openTasks: 2, userId: after.user_id }],
    ]);
    const history = $((await johnC.get(`/scp/tickets/${o.id}`)).text)('.events').text();
    expect(history).toContain('Requester asked to close; 2 tasks open');
    expect(history).toContain('The requester asked to close it: no longer waiting');
    // Asked again with nothing new since: the same answer, nothing recorded.
    expect((await close()).status).toBe(303);
    expect(await t.db('ticket_events').where({ ticket_id: o.id, event: 'close_requested' }).count({ n: '*' })).toEqual([{ n: 1 }]);
    expect((await row(o.id)).version).toBe(after.version);

    // The agents finish the tasks; now the requester's close closes it.
    for (const task of await tasksOf(o.id)) await act(johnC, o.id, 'taskset', { taskId: String(task.id), to: 'done' });
    const done = await close();
    expect($((await pat.get(done.headers.location)).text)('.flash').text()).toContain('Your ticket is closed.');
    expect(await row(o.id)).toMatchObject({ status: 'closed', state: 'closed' });
  });

  it('a task is opened again or removed while open; a done one stays; a stale button changes nothing', async () => {
    const o = await open();
    await act(johnC, o.id, 'task', { title: 'First' });
    await act(johnC, o.id, 'task', { title: 'Second' });
    const [first, second] = await tasksOf(o.id);
    await act(johnC, o.id, 'taskset', { taskId: String(first.id), to: 'done' });
    const again = await act(johnC, o.id, 'taskset', { taskId: String(first.id), to: 'done' });
    expect(again.status).toBe(303); // "Nothing changed."
    const doneRemove = await act(johnC, o.id, 'taskset', { taskId: String(first.id), to: 'removed' });
    expect(doneRemove.status).toBe(422);
    expect($(doneRemove.text)('#form-errors').text()).toContain('A done task stays as a record');
    await act(johnC, o.id, 'taskset', { taskId: String(first.id), to: 'open' });
    await act(johnC, o.id, 'taskset', { taskId: String(second.id), to: 'removed' });
    expect(await tasksOf(o.id)).toMatchObject([{ id: first.id, is_done: expect.anything() }]);
    expect(Boolean((await tasksOf(o.id))[0].is_done)).toBe(false);
    const events = $((await johnC.get(`/scp/tickets/${o.id}`)).text)('.events').text();
    expect(events).toContain('Task opened again: “First”');
    expect(events).toContain('Task removed: “Second”');
  });

  it('the requester never sees tasks; an agent who may not see the ticket is refused; a merge takes the tasks along', async () => {
    const o = await open('Keyboard broken');
    await act(johnC, o.id, 'task', { title: 'INTERNAL: check warranty' });
    const pat = client(t.app);
    await openViaStatus(pat, 'pat@example.com', o.number);
    expect((await pat.get(`/tickets/${o.number}`)).text).not.toContain('check warranty');

    const janeC = await loginAsAgent(t.app, jane.username, jane.password);
    const csrf = await csrfFrom(janeC, '/scp/tickets');
    expect((await janeC.post(`/scp/tickets/${o.id}/task`).type('form').send({ _csrf: csrf, title: 'Sneaky' })).status).toBe(404);

    const target = await open('Keyboard keys stuck');
    await act(johnC, o.id, 'merge', { target: target.number });
    expect((await tasksOf(target.id)).map((k: any) => k.title)).toEqual(['INTERNAL: check warranty']);
    expect(await tasksOf(o.id)).toEqual([]);
  });
});
