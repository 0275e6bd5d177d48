/**
 * Bulk actions from a queue: the ticked tickets are claimed, assigned, transferred, given a priority,
 * resolved, closed or reopened, each through its own service and rules; those the action does not
 * fit are named with the reason and the others go on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { $, loginAsAgent, type Client } from '../support/http.ts';
import { buildAgent, buildDepartment, buildTicket } from '../factories/index.ts';
import { MAX_BULK } from '../../src/domain/tickets/ticket-bulk-service.ts';

describe('bulk actions on a queue', () => {
  let t: TestApp;
  let support: number;
  let banking: number;
  let john: Awaited<ReturnType<typeof buildAgent>>;
  let jane: Awaited<ReturnType<typeof buildAgent>>;
  let johnC: Client;
  /** Posts a bulk action with the queue page's token; returns the response and the flash shown after it. */
  async function bulk(ids: (number | string)[], action: string, back = '/scp/tickets?queue=open') {
    const page = $((await johnC.get('/scp/tickets')).text);
    const res = await johnC.post('/scp/tickets/bulk').type('form').send({ _csrf: String(page('#bulk-form input[name=_csrf]').val()), ids: ids.map(String), do: action, back });
    const after = $((await johnC.get(res.headers.location)).text);
    return { res, flash: after('.flash').map((_, f) => after(f).text().trim()).get().join(' | ') };
  }
  const ticket = (id: number) => t.db('tickets').where({ id }).first();

  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
    support = (await t.db('departments').where({ name: 'Support' }).first()).id;
    banking = await buildDepartment(t.db, { name: 'Banking' });
    john = await buildAgent(t.db, { department_id: support, name: 'John', username: 'john' });
    jane = await buildAgent(t.db, { department_id: banking, name: 'Jane', username: 'jane' });
    johnC = await loginAsAgent(t.app, john.username, john.password);
  });
  afterAll(async () => t.close());

  it('the queue page has a box per ticket and the action bar (works without JavaScript: the boxes belong to its form)', async () => {
    const a = await buildTicket(t.db, { department_id: support });
    const page = $((await johnC.get('/scp/tickets')).text);
    expect(page(`input[name=ids][value="${a.id}"]`).attr('form')).toBe('bulk-form');
    expect(page('#bulk-do option[value="status:closed"]').text()).toBe('Close');
    expect(page('#bulk-form input[name=back]').val()).toBe('/scp/tickets?queue=open');
  });

  it('closes the ticked tickets; one of another department is “not found”, one already closed is named with the reason', async () => {
    const a = await buildTicket(t.db, { department_id: support });
    const b = await buildTicket(t.db, { department_id: support });
    const closed = await buildTicket(t.db, { department_id: support, status: 'closed' });
    const foreign = await buildTicket(t.db, { department_id: banking });
    const { res, flash } = await bulk([a.id, b.id, closed.id, foreign.id], 'status:closed');
    expect([res.status, res.headers.location]).toEqual([303, '/scp/tickets?queue=open']);
    for (const x of [a, b]) expect((await ticket(x.id)).status).toBe('closed');
    expect((await ticket(foreign.id)).status).toBe('open');
    expect(flash).toContain('2 tickets changed.');
    expect(flash).toContain(`#${closed.number} (The ticket is already closed.)`);
    expect(flash).toContain('1 ticket not found');
    expect(flash).not.toContain(foreign.number);
    // Each closing is in its ticket's history.
    expect(await t.db('ticket_events').where({ ticket_id: a.id, event: 'closed' }).first()).toBeTruthy();
  });

  it('claims, assigns, transfers and changes the priority; an agent outside a ticket’s department is refused for it', async () => {
    const a = await buildTicket(t.db, { department_id: support });
    const b = await buildTicket(t.db, { department_id: support });
    await bulk([a.id, b.id], 'claim');
    expect([(await ticket(a.id)).assignee_agent_id, (await ticket(b.id)).assignee_agent_id]).toEqual([john.id, john.id]);
    const high = (await t.db('priorities').where({ name: 'High' }).first()).id;
    await bulk([a.id, b.id], `priority:${high}`);
    expect([(await ticket(a.id)).priority_id, (await ticket(b.id)).priority_id]).toEqual([high, high]);
    const refused = await bulk([a.id], `assign:agent:${jane.id}`);
    expect(refused.flash).toContain(`#${a.number} (Choose an agent of the ticket’s department)`);
    expect((await ticket(a.id)).assignee_agent_id).toBe(john.id);
    const moved = await bulk([a.id], `transfer:${banking}`);
    expect(moved.flash).toContain('1 ticket changed.');
    expect((await ticket(a.id)).department_id).toBe(banking);
  });

  it('nothing ticked, no action, too many tickets or a foreign return address: a message, nothing changed, back to the queue', async () => {
    const a = await buildTicket(t.db, { department_id: support });
    expect((await bulk([], 'status:closed')).flash).toContain('Tick the tickets first');
    expect((await bulk([a.id], 'archive')).flash).toContain('Choose an action');
    const many = Array.from({ length: MAX_BULK + 1 }, (_, i) => i + 1);
    expect((await bulk(many, 'status:closed')).flash).toContain(`At most ${MAX_BULK} tickets at once`);
    expect((await ticket(a.id)).status).toBe('open');
    const { res } = await bulk([a.id], 'status:resolved', 'https://evil.example/');
    expect(res.headers.location).toBe('/scp/tickets');
    expect((await ticket(a.id)).status).toBe('resolved');
  });
});
