/**
 * Queue filters by the requester's organization (`org`) and by a custom field's answer
 * (`cf=<field>:<value>`): the right tickets, within what each agent may see; offered on the filter
 * form (organizations only when there are some; by name when there are too many to list), named in
 * the active-filter summary, kept by saved views, the CSV export and the bulk actions' way back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { $, loginAsAgent, submit, type Client } from '../support/http.ts';
import { buildAdmin, buildAgent, buildDepartment, buildTicket, buildUser } from '../factories/index.ts';
import { toDbDate } from '../../src/db/dialect.ts';
import { fieldsChanged } from '../../src/domain/fields/ticket-field-service.ts';
import { ORG_CHOICES_MAX } from '../../src/domain/tickets/ticket-queue-refinements.ts';

describe('queue filters: organization and custom field', () => {
  let t: TestApp;
  let johnC: Client;
  let billC: Client;
  let adminC: Client;
  let acme: number;
  let globex: number;
  let product: number;
  let vip: number;
  let notes: number;

  const now = () => toDbDate(new Date());
  const org = async (name: string, active = true) => (await t.db('organizations').insert({ name, auto_cc: 'none', portal_share: 'none', is_active: active, created_at: now(), updated_at: now() }))[0];
  const field = async (label: string, type: string, options: string | null = null) => {
    const [id] = await t.db('ticket_fields').insert({ label, name: label.toLowerCase().replace(/\W/g, '_'), type, options, is_required: false, visibility: 'public', sort_order: 0, is_active: true, created_at: now(), updated_at: now() });
    await fieldsChanged(t.db, new Date());
    return id;
  };
  const subjects = async (c: Client, query: string) => {
    const page = $((await c.get(`/scp/tickets?${query}`)).text);
    return page('tr[data-ticket] td[data-label="Subject"] > a').map((_, a) => page(a).text().trim()).get().sort();
  };

  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
    const support = (await t.db('departments').where({ name: 'Support' }).first()).id;
    const billing = await buildDepartment(t.db, { name: 'Billing' });
    const john = await buildAgent(t.db, { department_id: support, username: 'john' });
    const bill = await buildAgent(t.db, { department_id: billing, username: 'bill' });
    const admin = await buildAdmin(t.db, { username: 'boss' });
    [johnC, billC, adminC] = await Promise.all([john, bill, admin].map((a) => loginAsAgent(t.app, a.username, a.password)));
    // Tickets before any organization: the form offers none yet (first test).
    const alice = await buildUser(t.db, { name: 'Alice' });
    const bob = await buildUser(t.db, { name: 'Bob' });
    const carol = await buildUser(t.db, { name: 'Carol' });
    const dan = await buildUser(t.db, { name: 'Dan' });
    const ticket = (subject: string, user: number, dept: number, extra: Record<string, unknown> = {}) => buildTicket(t.db, { subject, user_id: user, department_id: dept, ...extra });
    const a1 = await ticket('Acme printer', alice.id, support);
    const a2 = await ticket('Acme invoice', bob.id, billing);
    await ticket('Acme old', alice.id, support, { status: 'closed' });
    const g1 = await ticket('Globex vpn', carol.id, support);
    const n1 = await ticket('Nobody laptop', dan.id, support);
    acme = await org('Acme');
    globex = await org('Globex');
    await t.db('users').whereIn('id', [alice.id, bob.id]).update({ organization_id: acme });
    await t.db('users').where({ id: carol.id }).update({ organization_id: globex });
    product = await field('Product', 'choice', 'Laptop\nPhone');
    vip = await field('VIP', 'checkbox');
    notes = await field('Notes', 'text');
    await t.db('ticket_field_values').insert([
      { ticket_id: a1.id, field_id: product, value: 'Laptop' }, { ticket_id: a2.id, field_id: product, value: 'Laptop' },
      { ticket_id: g1.id, field_id: product, value: 'Phone' }, { ticket_id: n1.id, field_id: vip, value: '1' }, { ticket_id: a1.id, field_id: vip, value: '1' },
      { ticket_id: g1.id, field_id: notes, value: 'Laptop' },
    ]);
  });
  afterAll(async () => t.close());

  it('lists the tickets of an organization\'s members, each agent only those they may see', async () => {
    expect(await subjects(johnC, `org=${acme}`)).toEqual(['Acme printer']);
    expect(await subjects(billC, `org=${acme}`)).toEqual(['Acme invoice']);
    expect(await subjects(adminC, `org=${acme}`)).toEqual(['Acme invoice', 'Acme printer']);
    expect(await subjects(adminC, `queue=closed&org=${acme}`)).toEqual(['Acme old']);
    expect(await subjects(adminC, `org=${globex}`)).toEqual(['Globex vpn']);
    // With another filter; and an organization that does not exist finds nothing, a bad value is ignored.
    expect(await subjects(adminC, `org=${acme}&q=invoice`)).toEqual(['Acme invoice']);
    expect(await subjects(adminC, 'org=999999')).toEqual([]);
    expect(await subjects(adminC, 'org=abc')).toHaveLength(4);
  });

  it('lists the tickets with a custom field\'s answer: a choice list\'s option, a ticked checkbox', async () => {
    expect(await subjects(adminC, `cf=${product}:Laptop`)).toEqual(['Acme invoice', 'Acme printer']);
    expect(await subjects(johnC, `cf=${product}:Laptop`)).toEqual(['Acme printer']);
    expect(await subjects(billC, `cf=${product}:Phone`)).toEqual([]);
    expect(await subjects(adminC, `cf=${vip}:1`)).toEqual(['Acme printer', 'Nobody laptop']);
    expect(await subjects(adminC, `cf=${vip}:1&org=${acme}`)).toEqual(['Acme printer']);
    // A text field, an unknown field, a checkbox "value" other than ticked, or a malformed value: no filter (never an error).
    for (const cf of [`${notes}:Laptop`, '999999:Laptop', `${vip}:0`, 'Laptop', `${product}:`]) {
      const res = await adminC.get(`/scp/tickets?cf=${encodeURIComponent(cf)}`);
      expect(res.status, cf).toBe(200);
      expect(await subjects(adminC, `cf=${encodeURIComponent(cf)}`), cf).toHaveLength(4);
    }
  });

  it('offers both on the filter form and names them among the active filters, each with a link that drops it', async () => {
    const page = $((await adminC.get(`/scp/tickets?org=${acme}&cf=${encodeURIComponent(`${product}:Laptop`)}&priority=`)).text);
    expect(page('#q-org option').map((_, o) => page(o).text()).get()).toEqual(['Any', 'Acme', 'Globex']);
    expect(page('#q-org option[selected]').text()).toBe('Acme');
    expect(page('#q-cf optgroup').map((_, g) => page(g).attr('label')).get()).toEqual(['Product', 'VIP']);
    expect(page('#q-cf option[selected]').val()).toBe(`${product}:Laptop`);
    expect(page(`#q-cf option[value="${vip}:1"]`).text()).toBe('VIP: Yes');
    const active = page('ul.active-filters li').map((_, li) => page(li).text().replace(/\s+/g, ' ').replace(' ×', '').trim()).get();
    expect(active).toEqual(['Organization: Acme', 'Product: Laptop']);
    expect(page('li[data-filter="org"] a.clear').attr('href')).toBe(`/scp/tickets?queue=open&cf=${encodeURIComponent(`${product}:Laptop`)}`);
    // The export and the bulk actions' way back keep them.
    expect(page('a[download]').attr('href')).toBe(`/scp/tickets.csv?queue=open&org=${acme}&cf=${encodeURIComponent(`${product}:Laptop`)}`);
    expect(page('#bulk-form input[name=back]').val()).toBe(`/scp/tickets?queue=open&org=${acme}&cf=${encodeURIComponent(`${product}:Laptop`)}`);
  });

  it('links the organization\'s page to the queue filtered by it', async () => {
    const page = $((await johnC.get(`/scp/orgs/${acme}`)).text);
    expect(page(`a[href="/scp/tickets?queue=open&org=${acme}"]`).length).toBe(1);
  });

  it('exports the same tickets as CSV', async () => {
    const csv = (await johnC.get(`/scp/tickets.csv?org=${acme}`)).text;
    expect(csv).toContain('Acme printer');
    expect(csv).not.toContain('Acme invoice');
    const byField = (await adminC.get(`/scp/tickets.csv?cf=${encodeURIComponent(`${product}:Laptop`)}`)).text;
    expect(byField.trim().split('\r\n')).toHaveLength(3);
  });

  it('keeps both in a saved view, which opens filtered', async () => {
    const res = await submit(johnC, '/scp/tickets', '/scp/queues', { name: 'Acme laptops', queue: 'open', org: String(acme), cf: `${product}:Laptop` });
    const view = await t.db('saved_queues').where({ name: 'Acme laptops' }).first();
    expect(JSON.parse(view.params)).toEqual({ queue: 'open', org: String(acme), cf: `${product}:Laptop` });
    const open = await johnC.get(res.headers.location);
    expect(open.headers.location).toContain(`org=${acme}`);
    const page = $((await johnC.get(open.headers.location)).text);
    expect(page('h1').text()).toBe('Acme laptops');
    expect(page('tr[data-ticket] td[data-label="Subject"] > a').text().trim()).toBe('Acme printer');
    expect(page('form[action="/scp/queues"] input[name=org]').val()).toBe(String(acme));
    expect(page('form[action="/scp/queues"] input[name=cf]').val()).toBe(`${product}:Laptop`);
  });

  it('asks for the organization by name when there are too many to list', async () => {
    await t.db('organizations').insert(Array.from({ length: ORG_CHOICES_MAX }, (_, i) => ({ name: `Filler ${String(i).padStart(3, '0')}`, auto_cc: 'none', portal_share: 'none', is_active: true, created_at: now(), updated_at: now() })));
    const page = $((await adminC.get(`/scp/tickets?org=${acme}`)).text);
    expect(page('select#q-org').length).toBe(0);
    expect(page('input#q-org[name=orgName]').val()).toBe('Acme');
    // A name (case ignored) or the only organization it starts a name of: the queue filtered by it.
    const byName = await adminC.get('/scp/tickets?queue=closed&orgName=acme');
    expect(byName.status).toBe(303);
    expect(byName.headers.location).toBe(`/scp/tickets?queue=closed&org=${acme}`);
    expect((await adminC.get('/scp/tickets?orgName=Glob')).headers.location).toBe(`/scp/tickets?org=${globex}`);
    // None, or several: the queue unfiltered, the name kept at the field with what was wrong.
    for (const [typed, says] of [['Initech', 'No organization'], ['Fill', 'Several organizations start with']]) {
      const res = await adminC.get(`/scp/tickets?orgName=${typed}`);
      expect(res.status).toBe(200);
      const again = $(res.text);
      expect(again('#q-org').val()).toBe(typed);
      expect(again('#q-org').attr('aria-invalid')).toBe('true');
      expect(again('#e-q-org').text()).toContain(says);
      expect(again('ul.active-filters').length).toBe(0);
    }
  });

  it('offers no organization filter while there is none', async () => {
    await t.db('users').update({ organization_id: null });
    await t.db('organizations').delete();
    const page = $((await adminC.get('/scp/tickets')).text);
    expect(page('#q-org').length).toBe(0);
  });
});
