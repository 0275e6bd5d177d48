/**
 * Custom ticket fields (osTicket's custom forms on help topics): the admin defines them; the portal,
 * the agents' New ticket form and the API ask the chosen topic's; agents see and edit the answers
 * (history); the requester sees the public ones; the API reads them. Definitions are cached per
 * process and re-read when `fields_version` changes.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { $, client, loginAsAgent, ticketAction, type Client } from '../support/http.ts';
import { multipartAction, postMultipart } from './portal-support.ts';
import { statementsDuring } from '../support/statements.ts';
import { buildAdmin, buildAgent, buildDepartment, buildTopic, unique } from '../factories/index.ts';
import { createTicketField, deleteTicketField, setTicketFieldActive, updateTicketField, type TicketFieldInput } from '../../src/domain/fields/ticket-field-service.ts';
import { createApiKey } from '../../src/domain/api-keys/api-key-service.ts';
import { createFilter, deleteFilter } from '../../src/domain/filters/ticket-filter-service.ts';
import { ValidationFailed } from '../../src/domain/errors.ts';

describe('custom ticket fields', () => {
  let t: TestApp;
  let admin: Awaited<ReturnType<typeof buildAdmin>>;
  let adminC: Client;
  let hardware: number;
  let billing: number;
  let apiKey: string;
  const ids: Record<string, number> = {};
  const field = async (input: TicketFieldInput) => (await createTicketField(t.ctx(admin.actor), input)).id;
  const answers = async (ticketId: number) =>
    Object.fromEntries((await t.db('ticket_field_values as v').join('ticket_fields as f', 'f.id', 'v.field_id').where('v.ticket_id', ticketId).select('f.name', 'v.value')).map((r: any) => [r.name, r.value]));
  const lastAudit = (action: string) => t.db('audit_log').where({ action }).orderBy('id', 'desc').first();

  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
    admin = await buildAdmin(t.db, { username: 'root' });
    adminC = await loginAsAgent(t.app, admin.username, admin.password);
    hardware = await buildTopic(t.db, { name: 'Hardware', is_public: true });
    billing = await buildTopic(t.db, { name: 'Billing', is_public: true });
    apiKey = (await createApiKey(t.ctx(), { allowedIp: '*', canCreateTickets: true, canManageTickets: true })).key;
    ids.asset = await field({ label: 'Asset tag', name: 'asset_tag', type: 'text', isRequired: 'on', topicIds: [String(hardware)], sortOrder: '1' });
    ids.system = await field({ label: 'Affected system', name: 'affected_system', type: 'choice', options: 'Laptop\nPrinter\nPhone', topicIds: [String(hardware)], sortOrder: '2' });
    ids.order = await field({ label: 'Order number', name: 'order_number', type: 'number', isRequired: 'on', topicIds: [String(billing)] });
    ids.since = await field({ label: 'Since', name: 'since', type: 'date', sortOrder: '5' });
    ids.urgent = await field({ label: 'Stops work', name: 'stops_work', type: 'checkbox', sortOrder: '6' });
    ids.internal = await field({ label: 'Internal ref', name: 'internal_ref', type: 'text', visibility: 'agents', sortOrder: '9' });
  });
  afterAll(async () => t.close());
  beforeEach(async () => {
    await t.db('rate_limits').delete();
  });

  async function portalPost(fields: Record<string, string>) {
    const c = client(t.app);
    const action = await multipartAction(c, '/tickets/new');
    return { c, res: await postMultipart(c, action, { email: `${unique('u')}@example.com`, name: 'Una User', subject: 'Broken', message: 'It is broken.', ...fields }) };
  }
  const ticketOf = async (res: request.Response) => t.db('tickets').where({ number: String(res.headers.location).split('/')[2] }).first();

  describe('admin', () => {
    it('creates a field on the form, with every problem reported at once and the input kept; audited; listed', async () => {
      const page = $((await adminC.get('/scp/admin/ticket-fields/new')).text);
      const _csrf = String(page('input[name=_csrf]').val());
      const bad = await adminC.post('/scp/admin/ticket-fields/new').type('form').send({ _csrf, label: 'Model', name: 'Bad Key!', type: 'choice', options: '', visibility: 'agents', isRequired: 'on', topicIds: [String(hardware)] });
      expect(bad.status).toBe(422);
      const form = $(bad.text);
      expect(form('#e-name').text() + form('.error-text').text()).toMatch(/Key/);
      expect(form('.error-text').text()).toContain('A choice list needs options');
      expect(form('.error-text').text()).toContain('agents-only');
      expect(form('input[name=label]').val()).toBe('Model');
      expect(form(`input[name=topicIds][value="${hardware}"]`).attr('checked')).toBeDefined();
      expect(await t.db('ticket_fields').where({ label: 'Model' }).first()).toBeUndefined();

      const taken = await adminC.post('/scp/admin/ticket-fields/new').type('form').send({ _csrf, label: 'Model', name: 'asset_tag', type: 'text' });
      expect(taken.status).toBe(409);

      const ok = await adminC.post('/scp/admin/ticket-fields/new').type('form').send({ _csrf, label: 'Model', name: 'model', type: 'choice', options: 'A1\n\nB2\nA1', topicIds: [String(hardware)], sortOrder: '3' });
      expect(ok.status).toBe(303);
      const row = await t.db('ticket_fields').where({ name: 'model' }).first();
      expect(row).toMatchObject({ label: 'Model', type: 'choice', options: 'A1\nB2' });
      expect(await t.db('ticket_field_topics').where({ field_id: row.id }).pluck('topic_id')).toEqual([hardware]);
      expect(await lastAudit('ticket_field.create')).toMatchObject({ entity: 'ticket_field', entity_id: row.id });
      const list = $((await adminC.get('/scp/admin/ticket-fields')).text)('table').text();
      expect(list).toContain('Model');
      expect(list).toContain('Choice list');
      expect(list).toContain('Every topic');

      const upd = await adminC.post(`/scp/admin/ticket-fields/${row.id}`).type('form').send({ _csrf, label: 'Device model', name: 'model', type: 'choice', options: 'A1\nB2', topicIds: [String(hardware)], sortOrder: '3' });
      expect(upd.status).toBe(303);
      const audit = await lastAudit('ticket_field.update');
      expect(JSON.parse(audit.after)).toEqual({ label: 'Device model' });
      await deleteTicketField(t.ctx(admin.actor), row.id);
      expect(await t.db('ticket_fields').where({ id: row.id }).first()).toBeUndefined();
    });

    it('a field with answers cannot be deleted (disable it: the answers stay and are still shown)', async () => {
      const id = await field({ label: unique('Temp '), name: unique('temp_').replace(/[^a-z0-9_]/g, '_').toLowerCase(), type: 'text' });
      const { res } = await portalPost({ topicId: String(billing), cf_order_number: '7', [`cf_${(await t.db('ticket_fields').where({ id }).first()).name}`]: 'kept' });
      expect(res.status).toBe(303);
      const ticket = await ticketOf(res);
      const page = $((await adminC.get(`/scp/admin/ticket-fields/${id}`)).text);
      const del = await adminC.post(`/scp/admin/ticket-fields/${id}/delete`).type('form').send({ _csrf: String(page('input[name=_csrf]').first().val()) });
      expect(del.status).toBe(409);
      expect(del.text).toContain('Disable it instead');
      expect(await t.db('ticket_fields').where({ id }).first()).toBeDefined();
      await setTicketFieldActive(t.ctx(admin.actor), id, false);
      const shown = $((await adminC.get(`/scp/tickets/${ticket.id}`)).text)('.ticket-fields').text();
      expect(shown).toContain('kept');
      expect(shown).toContain('field disabled');
      expect($((await client(t.app).get('/tickets/new')).text)(`[name=cf_${(await t.db('ticket_fields').where({ id }).first()).name}]`).length).toBe(0);
    });
  });

  describe('portal', () => {
    it('shows every public field once, saying which topic it is for; never the agents-only one', async () => {
      const page = $((await client(t.app).get('/tickets/new')).text);
      expect(page('[name=cf_asset_tag]').length).toBe(1);
      expect(page('[name=cf_order_number]').length).toBe(1);
      expect(page('[name=cf_since]').length).toBe(1);
      expect(page('[name=cf_internal_ref]').length).toBe(0);
      expect(page('[name=cf_asset_tag]').closest('.custom-field').text()).toContain('For Hardware');
      expect(page('[name=cf_asset_tag]').closest('.custom-field').attr('data-topics')).toBe(String(hardware));
    });

    it('requires the chosen topic’s required fields only, checks each type, keeps the input and shows the errors inline', async () => {
      const { res } = await portalPost({ topicId: String(hardware), cf_affected_system: 'Toaster', cf_since: '2026-02-30', cf_order_number: 'not checked (other topic)', subject: 'Kept subject' });
      expect(res.status).toBe(422);
      const page = $(res.text);
      expect(page('#e-cf_asset_tag').text()).toContain('Asset tag is required');
      expect(page('#e-cf_affected_system').text()).toContain('choose from the list');
      expect(page('#e-cf_since').text()).toContain('YYYY-MM-DD');
      expect(page('#e-cf_order_number').length).toBe(0);
      expect(page('input[name=subject]').val()).toBe('Kept subject');
      expect(page('input[name=cf_since]').val()).toBe('2026-02-30');
      // The form's own errors and the custom fields' together.
      const both = await portalPost({ topicId: String(billing), subject: '', cf_order_number: '12abc' });
      expect(both.res.status).toBe(422);
      expect($(both.res.text)('#e-cf_order_number').text()).toContain('enter a number');
      expect($(both.res.text)('.field-error input[name=subject]').length).toBe(1);
    });

    it('stores the chosen topic’s answers in the ticket’s transaction; other topics’ and agents-only answers are ignored; the requester sees the public ones', async () => {
      const { c, res } = await portalPost({ topicId: String(hardware), cf_asset_tag: ' HW-1 ', cf_affected_system: 'Printer', cf_since: '2026-02-27', cf_stops_work: 'on', cf_order_number: '99', cf_internal_ref: 'sneaky' });
      expect(res.status).toBe(303);
      const ticket = await ticketOf(res);
      expect(await answers(ticket.id)).toEqual({ asset_tag: 'HW-1', affected_system: 'Printer', since: '2026-02-27', stops_work: '1' });
      // An agents-only answer (set by an agent) never reaches the requester's page.
      await t.db('ticket_field_values').insert({ ticket_id: ticket.id, field_id: ids.internal, value: 'secret-ref' });
      const page = $((await c.get(`/tickets/${ticket.number}`)).text);
      expect(page.html()).not.toContain('secret-ref');
      const props = page('.ticket-head .props').text();
      expect(props).toContain('Asset tag');
      expect(props).toContain('HW-1');
      expect(props).toContain('Stops work');
      expect(props).not.toContain('Internal ref');
      // An optional field left empty has no row.
      const plain = await portalPost({ topicId: String(billing), cf_order_number: '42', cf_since: '' });
      expect(await answers((await ticketOf(plain.res)).id)).toEqual({ order_number: '42' });
    });
  });

  describe('agents', () => {
    it('the New ticket form asks every field (agents-only too); required ones may stay empty; other topics’ are dropped', async () => {
      const page = $((await adminC.get('/scp/tickets/new')).text);
      expect(page('[name=cf_internal_ref]').length).toBe(1);
      const action = String(page('form[enctype="multipart/form-data"]').attr('action'));
      const res = await postMultipart(adminC, action, {
        email: `${unique('w')}@example.com`, name: 'Walk In', source: 'phone', topicId: String(hardware), subject: 'Desk phone', message: 'Dead.',
        cf_affected_system: 'Phone', cf_internal_ref: 'INC-9', cf_order_number: '5',
      });
      expect(res.status).toBe(303);
      const id = Number(String(res.headers.location).split('/').pop());
      expect(await answers(id)).toEqual({ affected_system: 'Phone', internal_ref: 'INC-9' });

      const bad = await postMultipart(adminC, action, { email: `${unique('w')}@example.com`, name: 'Walk In', source: 'phone', topicId: String(hardware), subject: 'X', message: 'Y', cf_affected_system: 'Fax' });
      expect(bad.status).toBe(422);
      expect($(bad.text)('#e-cf_affected_system').text()).toContain('choose from the list');
    });

    it('the ticket page shows the answers; an agent edits them (version-checked, with a history entry)', async () => {
      const { res } = await portalPost({ topicId: String(hardware), cf_asset_tag: 'HW-2', cf_stops_work: 'on' });
      const ticket = await ticketOf(res);
      const agent = await buildAgent(t.db, { department_id: ticket.department_id });
      const ac = await loginAsAgent(t.app, agent.username, agent.password);
      const page = $((await ac.get(`/scp/tickets/${ticket.id}`)).text);
      expect(page('[data-field=asset_tag]').text()).toContain('HW-2');
      expect(page('#f-edit-cf_asset_tag').val()).toBe('HW-2');

      const invalid = await ticketAction(ac, ticket.id, 'fields', { cf_asset_tag: 'HW-2', cf_since: 'yesterday', cf_stops_work: 'on' });
      expect(invalid.status).toBe(422);
      expect($(invalid.text)('#e-edit-cf_since').text()).toContain('YYYY-MM-DD');
      expect($(invalid.text)('#f-edit-cf_since').val()).toBe('yesterday');

      const ok = await ticketAction(ac, ticket.id, 'fields', { cf_asset_tag: 'HW-3', cf_internal_ref: 'INC-1', cf_affected_system: '' });
      expect(ok.status).toBe(303);
      expect(await answers(ticket.id)).toEqual({ asset_tag: 'HW-3', internal_ref: 'INC-1' });
      expect((await t.db('tickets').where({ id: ticket.id }).first()).version).toBe(ticket.version + 1);
      const after = $((await ac.get(`/scp/tickets/${ticket.id}`)).text);
      const history = after('.events').text();
      expect(history).toContain('Asset tag set to “HW-3” (was “HW-2”)');
      expect(history).toContain('Stops work cleared (was “Yes”)');
      expect(history).toContain('Internal ref set to “INC-1”');

      const same = await ticketAction(ac, ticket.id, 'fields', { cf_asset_tag: 'HW-3', cf_internal_ref: 'INC-1' });
      expect(same.status).toBe(303);
      expect((await t.db('tickets').where({ id: ticket.id }).first()).version).toBe(ticket.version + 1);

      // A stale page: the change since is shown, nothing is written.
      const stale = await ac.post(`/scp/tickets/${ticket.id}/fields`).type('form').send({ _csrf: String(after('input[name=_csrf]').first().val()), version: String(ticket.version), cf_asset_tag: 'OLD' });
      expect(stale.status).toBe(409);
      expect((await answers(ticket.id)).asset_tag).toBe('HW-3');
    });
  });

  describe('API', () => {
    const v1 = (body: Record<string, unknown>) => request(t.app).post('/api/v1/tickets').set('X-API-Key', apiKey).send({ name: 'Api', email: `${unique('a')}@example.com`, subject: 'S', message: 'M', ...body });

    it('/api/v1 takes `fields` for the chosen topic (agents-only too), requires the required ones, and reads them back', async () => {
      const missing = await v1({ topicId: billing, fields: { since: '2026-01-01' } });
      expect(missing.status).toBe(422);
      expect(missing.body.error.fields).toEqual({ 'fields.order_number': 'Order number is required' });
      const typed = await v1({ topicId: billing, fields: { order_number: 'twelve' } });
      expect(typed.status).toBe(422);
      const notOne = await v1({ topicId: billing, fields: { order_number: ['1', '2'] } });
      expect(notOne.status).toBe(422);
      expect(await v1({ topicId: billing, fields: 'nope' })).toMatchObject({ status: 422 });

      const ok = await v1({ topicId: billing, fields: { order_number: 1234.5, stops_work: true, internal_ref: 'X-1', asset_tag: 'other topic' } });
      expect(ok.status).toBe(201);
      expect(ok.body.extraKeys).toEqual([]);
      const read = await request(t.app).get(`/api/v1/tickets/${ok.body.number}`).set('X-API-Key', apiKey);
      expect(read.body.fields).toEqual({ order_number: 1234.5, stops_work: true, internal_ref: 'X-1' });

      // POST …/fields changes the keys it names (null clears one), with a history entry.
      const action = (body: unknown) => request(t.app).post(`/api/v1/tickets/${ok.body.number}/fields`).set('X-API-Key', apiKey).send(body as object);
      const bad = await action({ fields: { since: '31.12.2026' } });
      expect([bad.status, Object.keys(bad.body.error.fields)]).toEqual([422, ['fields.since']]);
      const changed = await action({ fields: { internal_ref: null, since: '2026-12-31' } });
      expect(changed.status).toBe(200);
      expect(changed.body.changed).toBe(true);
      expect(changed.body.ticket.fields).toEqual({ order_number: 1234.5, stops_work: true, since: '2026-12-31' });
      expect(await t.db('ticket_events').where({ ticket_id: ok.body.id, event: 'fields_changed', actor_kind: 'api' }).first()).toBeDefined();
    });

    it('/api/tickets.json takes them as top-level keys, as osTicket does (not kept as extra)', async () => {
      const res = await request(t.app).post('/api/tickets.json').set('X-API-Key', apiKey).set('Content-Type', 'application/json')
        .send(JSON.stringify({ name: 'Api', email: `${unique('a')}@example.com`, subject: 'S', message: 'M', topicId: hardware, asset_tag: 'HW-77', affected_system: 'Laptop', notes: 'extra' }));
      expect(res.status).toBe(201);
      const ticket = await t.db('tickets').where({ number: res.text.trim() }).first();
      expect(await answers(ticket.id)).toEqual({ asset_tag: 'HW-77', affected_system: 'Laptop' });
      expect(JSON.parse(ticket.extra)).toEqual({ notes: 'extra' });
      const missing = await request(t.app).post('/api/tickets.json').set('X-API-Key', apiKey).set('Content-Type', 'application/json')
        .send(JSON.stringify({ name: 'Api', email: `${unique('a')}@example.com`, subject: 'S', message: 'M', topicId: hardware }));
      expect(missing.status).toBe(400);
    });

    it('/api/tickets.xml takes them as elements named after the field', async () => {
      const xml = `<?xml version="1.0" encoding="UTF-8"?><ticket><name>Api</name><email>${unique('x')}@example.com</email><subject>S</subject><message>M</message><topicId>${hardware}</topicId><asset_tag>HW-88</asset_tag><stops_work>1</stops_work></ticket>`;
      const res = await request(t.app).post('/api/tickets.xml').set('X-API-Key', apiKey).set('Content-Type', 'application/xml').send(xml);
      expect(res.status).toBe(201);
      const ticket = await t.db('tickets').where({ number: res.text.trim() }).first();
      expect(await answers(ticket.id)).toEqual({ asset_tag: 'HW-88', stops_work: '1' });
    });
  });

  it('a ticket filter can match a custom field’s answer (Admin → Ticket filters lists the fields)', async () => {
    const printers = await buildDepartment(t.db, { name: unique('Printers ') });
    const form = $((await adminC.get('/scp/admin/filters/new')).text);
    expect(form('select[name=rule1Field] option[value="cf:affected_system"]').text()).toContain('Affected system');
    const f = await createFilter(t.ctx(admin.actor), { name: 'Printers to printers', rule1Field: 'cf:affected_system', rule1Op: 'equals', rule1Value: 'printer', departmentId: String(printers) });
    try {
      expect($((await adminC.get('/scp/admin/filters')).text)('table').text()).toContain('Custom field Affected system is “printer”');
      const hit = await ticketOf((await portalPost({ topicId: String(hardware), cf_asset_tag: 'P-1', cf_affected_system: 'Printer' })).res);
      const miss = await ticketOf((await portalPost({ topicId: String(hardware), cf_asset_tag: 'P-2', cf_affected_system: 'Laptop' })).res);
      expect([hit.department_id === printers, miss.department_id === printers]).toEqual([true, false]);
      const bad = await createFilter(t.ctx(admin.actor), { name: 'Bad rule', rule1Field: 'cf:Not A Key', rule1Op: 'equals', rule1Value: 'x', departmentId: String(printers) }).catch((e: unknown) => e);
      expect(bad).toBeInstanceOf(ValidationFailed);
    } finally {
      await deleteFilter(t.ctx(admin.actor), f.id);
    }
  });

  it('a change reaches the forms at once (the definitions are re-read when fields_version changes), and costs no statement otherwise', async () => {
    const name = `c${Date.now()}`;
    const id = await field({ label: 'Before rename', name, type: 'text' });
    expect($((await client(t.app).get('/tickets/new')).text)(`[name=cf_${name}]`).closest('.custom-field').text()).toContain('Before rename');
    await updateTicketField(t.ctx(admin.actor), id, { label: 'After rename', name, type: 'text' });
    const page = $((await client(t.app).get('/tickets/new')).text);
    expect(page(`[name=cf_${name}]`).closest('.custom-field').text()).toContain('After rename');
    await setTicketFieldActive(t.ctx(admin.actor), id, false);
    expect($((await client(t.app).get('/tickets/new')).text)(`[name=cf_${name}]`).length).toBe(0);
    // Once read, neither the form nor a ticket page nor a new ticket reads the definitions again.
    const { res } = await portalPost({ topicId: String(billing), cf_order_number: '1' });
    const ticket = await ticketOf(res);
    await adminC.get(`/scp/tickets/${ticket.id}`);
    const reads = await statementsDuring(t.db, async () => {
      await client(t.app).get('/tickets/new');
      await adminC.get(`/scp/tickets/${ticket.id}`);
      await portalPost({ topicId: String(billing), cf_order_number: '2' });
    });
    expect(reads.statements.filter((s) => /ticket_fields|ticket_field_topics/.test(s.sql))).toEqual([]);
    // The answers come with the ticket page's header read: a ticket with answers costs what one without does.
    const bare = await ticketOf((await portalPost({ topicId: String(billing), cf_order_number: '3' })).res);
    await t.db('ticket_field_values').where({ ticket_id: bare.id }).delete();
    await adminC.get(`/scp/tickets/${bare.id}`);
    const withAnswers = await statementsDuring(t.db, () => adminC.get(`/scp/tickets/${ticket.id}`));
    const without = await statementsDuring(t.db, () => adminC.get(`/scp/tickets/${bare.id}`));
    expect(withAnswers.statements.length).toBe(without.statements.length);
  });
});
