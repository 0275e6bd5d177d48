/**
 * Outgoing webhooks: the admin pages (create, edit, disable, delete, rotate the secret; input kept on
 * errors; admins only), deliveries queued in the transaction of the ticket change (none for a change
 * that rolls back, for events not subscribed to, or for a disabled webhook), the worker's signed POSTs
 * to a real HTTP server started here, retries with backoff on the test clock, giving up, redirects not
 * followed, timeouts, two workers at once, the delivery log with Redeliver and Send test ping,
 * housekeeping, and no SQL statement more per request while no webhook wants the change.
 */
import crypto from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { $, client, csrfFrom, loginAsAgent, submit, type Client } from '../support/http.ts';
import { statementsDuring } from '../support/statements.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';
import { buildAdmin, buildAgent, buildDepartment, buildTicket, unique, type BuiltAgent } from '../factories/index.ts';
import { dbDate, toDbDate } from '../../src/db/dialect.ts';
import { SYSTEM } from '../../src/domain/actor.ts';
import { createApiKey } from '../../src/domain/api-keys/api-key-service.ts';
import { withDb } from '../../src/domain/context.ts';
import { openTicket } from '../../src/domain/tickets/ticket-service.ts';
import { addInternalNote } from '../../src/domain/tickets/ticket-agent-service.ts';
import { assignTicket } from '../../src/domain/tickets/ticket-assignment-service.ts';
import { deleteTicket } from '../../src/domain/tickets/ticket-delete.ts';
import { createWebhook, deleteWebhook, setWebhookActive, updateWebhook, type WebhookInput } from '../../src/domain/webhooks/webhook-service.ts';
import { redeliverWebhookDelivery, sendWebhookPing } from '../../src/domain/webhooks/webhook-log-service.ts';
import type { HostResolver } from '../../src/domain/webhooks/webhook-address.ts';
import { MAX_ATTEMPTS, RETRY_DELAYS_MS, SENDING_TIMEOUT_MS } from '../../src/domain/webhooks/webhook-delivery.ts';
import { purgeExpired, WEBHOOK_DELIVERED_KEEP_DAYS, WEBHOOK_FAILED_KEEP_DAYS } from '../../src/domain/housekeeping/housekeeping-service.ts';
import { deliverWebhooks } from '../../src/jobs/webhook-task.ts';
import { getSettings, SettingsSchema, writeSettings } from '../../src/domain/settings/settings-service.ts';
import { getSettingsForm } from '../../src/domain/settings/settings-admin-service.ts';

const DAY = 24 * 3600_000;
const START = '2026-03-02T10:00:00Z';

/** The receiver's check, as docs/WEBHOOKS.md shows it: HMAC-SHA256 over "timestamp.body", compared in constant time. */
function verify(secret: string, headers: Record<string, unknown>, body: string): boolean {
  const expected = Buffer.from('sha256=' + crypto.createHmac('sha256', secret).update(`${headers['x-tessera-timestamp']}.${body}`).digest('hex'));
  const got = Buffer.from(String(headers['x-tessera-signature'] ?? ''));
  return got.length === expected.length && crypto.timingSafeEqual(got, expected);
}

describe('webhooks', () => {
  let t: TestApp;
  let rx: WebhookReceiver;
  let admin: BuiltAgent;
  let adminC: Client;
  let deptId: number;
  const run = (o: Partial<Parameters<typeof deliverWebhooks>[0]> = {}) => deliverWebhooks({ db: t.db, clock: t.clock, publicUrl: t.config.publicUrl, ...o });
  const hook = async (path: string, events: string[], over: Partial<WebhookInput> = {}) =>
    createWebhook(t.ctx(admin.actor), { name: unique('Hook '), url: `${rx.url}${path}`, events, isActive: true, ...over });
  const allowLocalNetwork = (on: boolean) => writeSettings(t.db, { webhooks_allow_local_network: on }, t.clock());
  /** A webhook row as one saved before the address checks existed (the form refuses these URLs now). */
  const legacyHook = async (url: string, events: string[]) => {
    const ts = toDbDate(t.clock());
    const [id] = await t.db('webhooks').insert({ name: unique('Legacy '), url, secret: 'whsec_legacy', events: JSON.stringify(events), is_active: true, created_at: ts, updated_at: ts });
    await writeSettings(t.db, { webhooks_version: unique('v') }, t.clock()); // as every webhook change does
    return id as number;
  };
  const deliveries = (webhookId: number) => t.db('webhook_deliveries').where({ webhook_id: webhookId }).orderBy('id');
  const open = (subject = 'Printer on fire') =>
    openTicket(t.ctx(admin.actor), { email: `${unique('pat')}@customers.test`.toLowerCase(), name: 'Pat Doe', subject, message: 'It smokes.', departmentId: deptId });

  beforeAll(async () => {
    t = await startTestApp({ now: START });
    rx = await startWebhookReceiver();
    // The receiver listens on 127.0.0.1: only the setting lets deliveries reach it (see 'addresses' below).
    await writeSettings(t.db, { webhooks_allow_local_network: true }, t.clock());
    deptId = await buildDepartment(t.db, { name: 'Facilities' });
    admin = await buildAdmin(t.db, { name: 'Ada Admin' });
    adminC = await loginAsAgent(t.app, admin.username, admin.password);
  });
  afterAll(async () => {
    await rx?.close();
    await t?.close();
  });
  afterEach(async () => {
    // Each test starts without webhooks (deleted as an admin does, so the per-process list follows).
    for (const id of await t.db('webhooks').pluck('id')) await deleteWebhook(t.ctx(admin.actor), id);
    await allowLocalNetwork(true);
    await t.db('rate_limits').delete();
    // A test that moved the clock by days also ended the admin's session: start again at the start.
    t.clock.set(START);
    adminC = await loginAsAgent(t.app, admin.username, admin.password);
  });

  it('adds no SQL statement to a ticket change while no webhook wants it, and one INSERT when one does', async () => {
    const ticket = await buildTicket(t.db, { department_id: deptId });
    const postNote = async (note: string, status?: string) => {
      const page = $((await adminC.get(`/scp/tickets/${ticket.id}`)).text);
      const form = { _csrf: String(page('input[name=_csrf]').first().val()), version: String(page('form[action^="/scp/tickets/' + ticket.id + '/note"] input[name=version]').val()), note, ...(status ? { status } : {}) };
      const { result, statements } = await statementsDuring(t.db, () => adminC.post(`/scp/tickets/${ticket.id}/note`).type('form').send(form));
      expect(result.status, note).toBe(303);
      return statements.map((s) => s.sql.toLowerCase());
    };
    await postNote('warm-up');
    // No webhook was ever saved.
    const none = await postNote('no webhook');
    expect(none.some((s) => s.includes('webhook'))).toBe(false);
    expect(await postNote('no webhook again')).toHaveLength(none.length);
    // A webhook for another event: the list of active webhooks is read once, then nothing.
    const other = await hook('/statements', ['response']);
    await postNote('reads the webhooks once');
    expect(await postNote('another event')).toHaveLength(none.length);
    // Subscribed: one multi-row INSERT more, in the transaction.
    await updateWebhook(t.ctx(admin.actor), other.id, { name: other.name, url: other.url, events: ['response', 'note', 'resolved'], isActive: true });
    await postNote('reads the webhooks once more');
    const subscribed = await postNote('subscribed');
    expect(subscribed).toHaveLength(none.length + 1);
    expect(subscribed.filter((s) => s.includes('webhook'))).toEqual([expect.stringMatching(/^insert into [`"]webhook_deliveries[`"]/)]);
    // A change with two events (a note that resolves the ticket): still one INSERT, for both.
    const resolving = await postNote('resolving', 'resolved');
    expect(resolving.filter((s) => s.includes('webhook'))).toEqual([expect.stringMatching(/^insert into [`"]webhook_deliveries[`"]/)]);
    expect((await deliveries(other.id)).map((d) => d.event)).toEqual(['note', 'note', 'note', 'resolved']);
  });

  describe('admin pages', () => {
    it('are refused to visitors and to agents who are not admins', async () => {
      const h = await hook('/refused', ['created']);
      expect((await request(t.app).get('/scp/admin/webhooks')).headers.location).toBe('/scp/login?next=%2Fscp%2Fadmin%2Fwebhooks');
      const agent = await buildAgent(t.db, { department_id: deptId });
      const c = await loginAsAgent(t.app, agent.username, agent.password);
      expect((await c.get('/scp/admin/webhooks')).status).toBe(403);
      expect((await c.get(`/scp/admin/webhooks/${h.id}`)).status).toBe(403);
      expect((await c.get(`/scp/admin/webhooks/${h.id}/deliveries`)).status).toBe(403);
      const _csrf = await csrfFrom(c, '/scp/password/forgot');
      expect((await c.post('/scp/admin/webhooks').type('form').send({ _csrf, name: 'Sneaky', url: 'https://evil.test/', events: 'created', isActive: 'on' })).status).toBe(403);
      expect((await c.post(`/scp/admin/webhooks/${h.id}/rotate-secret`).type('form').send({ _csrf })).status).toBe(403);
      expect(await t.db('webhooks').pluck('name')).toEqual([h.name]);
      expect((await t.db('webhooks').where({ id: h.id }).first()).secret).toBe(h.secret);
    });

    it('keep the input of a refused form (422): a URL that is not http(s), one with a password in it, no events, no name', async () => {
      for (const url of ['ftp://files.example.com/hook', 'javascript:alert(1)', 'https://user:secret@example.com/hook', 'example.com/hook']) {
        const res = await submit(adminC, '/scp/admin/webhooks/new', '/scp/admin/webhooks', { name: 'CRM sync', url, events: ['created', 'note'], isActive: 'on' });
        expect(res.status, url).toBe(422);
        const page = $(res.text);
        expect(page('input[name=url]').val(), url).toBe(url);
        expect(page('input[name=name]').val()).toBe('CRM sync');
        expect(page('input[name=events]:checked').map((_, e) => page(e).val()).get()).toEqual(['created', 'note']);
        expect(page('#e-url').text()).toMatch(/http/);
      }
      const res = await submit(adminC, '/scp/admin/webhooks/new', '/scp/admin/webhooks', { name: '', url: 'https://crm.example.com/hook' });
      expect(res.status).toBe(422);
      const page = $(res.text);
      expect(page('input[name=url]').val()).toBe('https://crm.example.com/hook');
      expect(page('#f-events .error-text').text()).toMatch(/at least one event/);
      expect(page('#e-name').length).toBe(1);
      expect(await t.db('webhooks').count({ n: '*' })).toEqual([{ n: 0 }]);
    });

    it('create a webhook with a random secret, shown on its page (never cached) and kept out of the audit log', async () => {
      const form = $((await adminC.get('/scp/admin/webhooks/new')).text);
      // The events are every ticket event, grouped.
      expect(form('#f-events .check-group').map((_, e) => form(e).text()).get()).toEqual(['Tickets', 'Thread', 'Assignment', 'Status', 'Priority, SLA and due date', 'CCs and requester', 'Tasks']);
      expect(form('#f-events input[value=message]').parent().text()).toContain('Message from the requester');
      const res = await submit(adminC, '/scp/admin/webhooks/new', '/scp/admin/webhooks', { name: 'CRM sync', url: 'https://crm.example.com/hook?x=1', events: ['created', 'message', 'closed'], isActive: 'on' });
      expect(res.status).toBe(303);
      const row = await t.db('webhooks').where({ name: 'CRM sync' }).first();
      expect(res.headers.location).toBe(`/scp/admin/webhooks/${row.id}`);
      expect(row.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
      expect(JSON.parse(row.events)).toEqual(['created', 'message', 'closed']);
      const pageRes = await adminC.get(`/scp/admin/webhooks/${row.id}`);
      expect(pageRes.headers['cache-control']).toBe('no-store');
      const page = $(pageRes.text);
      expect(page('dt:contains("Signing secret") + dd').text().trim()).toBe(row.secret);
      expect(page('form[action$="/rotate-secret"]').attr('data-confirm')).toBeTruthy();
      expect(page('form[action$="/delete"]').attr('data-confirm')).toBeTruthy();
      const audit = await t.db('audit_log').where({ entity: 'webhook', entity_id: row.id }).select('action', 'before', 'after');
      expect(audit.map((a) => a.action)).toEqual(['webhook.create']);
      expect(JSON.parse(audit[0].after)).toEqual({ name: 'CRM sync', url: 'https://crm.example.com/hook?x=1', events: ['created', 'message', 'closed'], isActive: true });
      expect(JSON.stringify(audit)).not.toContain(row.secret);
      // Another with the same name is refused, the input kept.
      const dup = await submit(adminC, '/scp/admin/webhooks/new', '/scp/admin/webhooks', { name: 'crm SYNC', url: 'https://other.example.com/', events: 'created' });
      expect(dup.status).toBe(409);
      expect($(dup.text)('input[name=url]').val()).toBe('https://other.example.com/');
      expect((await adminC.get('/scp/admin/webhooks')).text).toContain('CRM sync');
    });

    it('edit (input kept on errors), disable, enable, rotate the secret and delete a webhook, each audited without the secret', async () => {
      const h = await hook('/edited', ['created']);
      const path = `/scp/admin/webhooks/${h.id}`;
      const bad = await submit(adminC, path, path, { name: 'Renamed', url: 'mailto:ops@example.com', events: ['note', 'overdue'] });
      expect(bad.status).toBe(422);
      expect($(bad.text)('input[name=name]').val()).toBe('Renamed');
      expect($(bad.text)('input[name=events]:checked').map((_, e) => $(bad.text)(e).val()).get()).toEqual(['note', 'overdue']);
      expect((await submit(adminC, path, path, { name: 'Renamed', url: `${rx.url}/edited2`, events: ['note', 'overdue'], isActive: 'on' })).status).toBe(303);
      expect(await t.db('webhooks').where({ id: h.id }).first('name', 'url', 'events')).toEqual({ name: 'Renamed', url: `${rx.url}/edited2`, events: '["note","overdue"]' });
      expect((await submit(adminC, path, `${path}/disable`, {})).headers.location).toBe(path);
      expect((await t.db('webhooks').where({ id: h.id }).first()).is_active).toBeFalsy();
      expect((await submit(adminC, path, `${path}/enable`, {})).headers.location).toBe(path);
      expect((await t.db('webhooks').where({ id: h.id }).first()).is_active).toBeTruthy();
      expect((await submit(adminC, path, `${path}/rotate-secret`, {})).headers.location).toBe(path);
      const rotated = (await t.db('webhooks').where({ id: h.id }).first()).secret;
      expect(rotated).toMatch(/^whsec_/);
      expect(rotated).not.toBe(h.secret);
      expect($((await adminC.get(path)).text)('dt:contains("Signing secret") + dd').text().trim()).toBe(rotated);
      await open();
      await t.db('webhook_deliveries').insert({ webhook_id: h.id, event: 'note', actor: '{}', occurred_at: toDbDate(t.clock()), next_attempt_at: toDbDate(t.clock()), created_at: toDbDate(t.clock()) });
      expect((await submit(adminC, path, `${path}/delete`, {})).headers.location).toBe('/scp/admin/webhooks');
      expect(await t.db('webhooks').where({ id: h.id }).first()).toBeUndefined();
      expect(await deliveries(h.id)).toEqual([]);
      const audit = await t.db('audit_log').where({ entity: 'webhook', entity_id: h.id }).orderBy('id').select('action', 'before', 'after');
      expect(audit.map((a) => a.action)).toEqual(['webhook.create', 'webhook.update', 'webhook.disable', 'webhook.enable', 'webhook.rotate_secret', 'webhook.delete']);
      expect(JSON.stringify(audit)).not.toContain(h.secret);
      expect(JSON.stringify(audit)).not.toContain(rotated);
    });
  });

  describe('queueing', () => {
    it('queues one delivery per subscribed, active webhook for each change; other events and disabled webhooks get nothing', async () => {
      const a = await hook('/a', ['created', 'note']);
      const b = await hook('/b', ['response']);
      const off = await hook('/off', ['created', 'note', 'assigned'], { isActive: false });
      const opened = await open();
      await addInternalNote(t.ctx(admin.actor), { ticketId: opened.id, note: 'Called the fire brigade' });
      await assignTicket(t.ctx(admin.actor), { ticketId: opened.id, agentId: admin.id });
      expect((await deliveries(a.id)).map((d) => [d.event, d.ticket_id, d.status])).toEqual([['created', opened.id, 'queued'], ['note', opened.id, 'queued']]);
      expect(await deliveries(b.id)).toEqual([]);
      expect(await deliveries(off.id)).toEqual([]);
      // Disabled after the fact: the next change is not queued for it either.
      await setWebhookActive(t.ctx(admin.actor), a.id, false);
      await addInternalNote(t.ctx(admin.actor), { ticketId: opened.id, note: 'Fire is out' });
      expect(await deliveries(a.id)).toHaveLength(2);
      const r = await run();
      expect(r.delivered).toBe(0);
      expect(rx.at('/a')).toHaveLength(0);
    });

    it("keeps a deleted ticket's deliveries (without the ticket) and still sends them", async () => {
      const h = await hook('/deleted', ['created']);
      const opened = await open('Soon gone');
      await deleteTicket(t.ctx(admin.actor), { ticketId: opened.id });
      expect(await deliveries(h.id)).toEqual([expect.objectContaining({ event: 'created', ticket_id: null, status: 'queued' })]);
      await run();
      const [got] = rx.at('/deleted');
      expect(JSON.parse(got.body)).toMatchObject({ event: 'created', ticket: null, data: { departmentId: deptId } });
    });

    it('sends "deleted" for a ticket deleted on its page, in bulk and by the API (number, subject, who), queued in the deletion\'s transaction', async () => {
      const form = $((await adminC.get('/scp/admin/webhooks/new')).text);
      expect(form('#f-events input[value=deleted]').parent().text().trim()).toBe('Ticket deleted');
      const h = await hook('/deleted-event', ['deleted']);
      const api = await createApiKey(t.ctx(SYSTEM), { allowedIp: '*', note: 'deleter', canCreateTickets: false, canManageTickets: true });
      const [page, bulkA, bulkB, byApi, kept] = await Promise.all(['Spam: cheap watches', 'Bulk A', 'Bulk B', 'Via the API', 'Rolled back'].map((subject) => open(subject)));
      expect((await submit(adminC, `/scp/tickets/${page.id}/delete`, `/scp/tickets/${page.id}/delete`, {})).status).toBe(303);
      const bulk = await submit(adminC, '/scp/tickets', '/scp/tickets/bulk', { ids: [String(bulkA.id), String(bulkB.id)], do: 'delete', confirm: 'yes' });
      expect(bulk.status).toBe(303);
      expect((await request(t.app).delete(`/api/v1/tickets/${byApi.number}`).set('X-API-Key', api.key)).status).toBe(200);
      // A deletion that fails after its delivery was queued takes the delivery along.
      await expect(t.db.transaction(async (trx) => {
        await deleteTicket(withDb(t.ctx(admin.actor), trx), { ticketId: kept.id });
        expect(await trx('webhook_deliveries').where({ webhook_id: h.id }).count({ n: '*' })).toEqual([{ n: 5 }]); // there inside the transaction…
        throw new Error('the deletion fails at the end');
      })).rejects.toThrow('the deletion fails at the end');
      expect(await t.db('tickets').where({ id: kept.id }).first()).toBeDefined(); // …gone with it
      const rows = await deliveries(h.id);
      expect(rows.map((d) => [d.event, d.ticket_id])).toEqual([['deleted', null], ['deleted', null], ['deleted', null], ['deleted', null]]);

      expect(await run()).toMatchObject({ delivered: 4, failed: 0 });
      const got = rx.at('/deleted-event');
      expect(got.map((g) => g.headers['x-tessera-event'])).toEqual(['deleted', 'deleted', 'deleted', 'deleted']);
      for (const g of got) expect(verify(h.secret, g.headers, g.body)).toBe(true);
      const body = (n: { number: string }) => JSON.parse(got.find((g) => JSON.parse(g.body).data.number === n.number)!.body);
      const who = { kind: 'agent', id: admin.id, name: 'Ada Admin' };
      expect(body(page)).toEqual({
        id: expect.any(Number), event: 'deleted', occurred_at: '2026-03-02T10:00:00.000Z', actor: who, ticket: null,
        data: { ticketId: page.id, number: page.number, subject: 'Spam: cheap watches', status: 'open', departmentId: deptId, department: 'Facilities' },
      });
      expect(body(bulkA)).toMatchObject({ actor: who, data: { number: bulkA.number, subject: 'Bulk A' } });
      expect(body(bulkB)).toMatchObject({ actor: who, data: { number: bulkB.number, subject: 'Bulk B' } });
      expect(body(byApi)).toMatchObject({ actor: { kind: 'api', id: api.id }, data: { ticketId: byApi.id, number: byApi.number, subject: 'Via the API' } });
    });

    it('queues nothing for a change that rolls back', async () => {
      const a = await hook('/rollback', ['note']);
      const ticket = await buildTicket(t.db, { department_id: deptId });
      await expect(t.db.transaction(async (trx) => {
        await addInternalNote(withDb(t.ctx(admin.actor), trx), { ticketId: ticket.id, note: 'Never mind' });
        expect(await trx('webhook_deliveries').where({ webhook_id: a.id }).count({ n: '*' })).toEqual([{ n: 1 }]); // there inside the transaction…
        throw new Error('the change fails after the note');
      })).rejects.toThrow('the change fails after the note');
      expect(await deliveries(a.id)).toEqual([]); // …gone with it
      expect(await t.db('ticket_events').where({ ticket_id: ticket.id, event: 'note' })).toEqual([]);
      await run();
      expect(rx.at('/rollback')).toHaveLength(0);
    });
  });

  describe('delivery', () => {
    it('POSTs the payload with the documented headers and a signature the receiver can verify', async () => {
      const h = await hook('/signed', ['created', 'note']);
      const opened = await open('Signed and sealed');
      const note = await addInternalNote(t.ctx(admin.actor), { ticketId: opened.id, note: 'Internal: vendor called' });
      const r = await run();
      expect(r).toMatchObject({ delivered: 2, retrying: 0, failed: 0 });
      // Deliveries go out side by side (the worker's lanes): they may arrive in either order.
      const got = rx.at('/signed');
      expect(got.map((g) => g.headers['x-tessera-event']).sort()).toEqual(['created', 'note']);
      const rows = await deliveries(h.id);
      const req = got.find((g) => g.headers['x-tessera-event'] === 'created')!;
      expect(req.method).toBe('POST');
      expect(req.headers['content-type']).toBe('application/json');
      expect(req.headers['user-agent']).toBe('Tessera-Webhooks');
      expect(req.headers['x-tessera-delivery']).toBe(String(rows[0].id));
      expect(req.headers['x-tessera-timestamp']).toBe(String(Math.floor(t.clock().getTime() / 1000)));
      expect(verify(h.secret, req.headers, req.body)).toBe(true);
      expect(verify(h.secret, req.headers, req.body.replace('Signed', 'Forged'))).toBe(false);
      expect(verify('whsec_wrong', req.headers, req.body)).toBe(false);
      const body = JSON.parse(req.body);
      expect(body).toMatchObject({
        id: rows[0].id, event: 'created', occurred_at: '2026-03-02T10:00:00.000Z',
        actor: { kind: 'agent', id: admin.id, name: 'Ada Admin' },
        data: { source: 'web', departmentId: deptId },
        ticket: {
          id: opened.id, number: opened.number, subject: 'Signed and sealed', status: 'open', state: 'open',
          department: { id: deptId, name: 'Facilities' }, priority: { id: expect.any(Number), name: expect.any(String) },
          user: { email: expect.stringMatching(/@customers\.test$/), name: 'Pat Doe' },
          urls: { agent: `http://helpdesk.test/scp/tickets/${opened.id}`, portal: `http://helpdesk.test/tickets/${opened.number}`, api: `http://helpdesk.test/api/v1/tickets/${opened.number}` },
        },
      });
      expect(body).toHaveProperty('ticket.assignee');
      // An event about a thread entry carries the entry.
      const noteBody = JSON.parse(got.find((g) => g.headers['x-tessera-event'] === 'note')!.body);
      expect(noteBody).toMatchObject({ event: 'note', data: { entryId: note.entryId }, entry: { id: note.entryId, kind: 'note', body: 'Internal: vendor called', poster: 'Ada Admin' } });
      for (const row of await deliveries(h.id)) {
        expect(row).toMatchObject({ status: 'delivered', attempts: 1, last_status_code: 200, last_error: null, last_response: 'ok' });
        expect(Number(row.last_duration_ms)).toBeGreaterThanOrEqual(0);
        expect(dbDate(row.finished_at)).toEqual(t.clock());
      }
      expect((await deliveries(h.id))[0].payload).toBe(req.body);
      // Nothing is sent twice.
      await run();
      expect(rx.at('/signed')).toHaveLength(2);
    });

    it('retries a failing receiver after 1 min, 5, 30, 2 h, 6, 12 and 24, with the same body, then gives up', async () => {
      rx.answer('/flaky', { status: 500, body: 'boom' });
      const h = await hook('/flaky', ['created']);
      await open();
      const [{ id }] = await deliveries(h.id);
      const row = () => t.db('webhook_deliveries').where({ id }).first();
      expect(RETRY_DELAYS_MS).toEqual([60_000, 300_000, 1_800_000, 7_200_000, 21_600_000, 43_200_000, 86_400_000]);
      for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
        await run();
        expect(rx.at('/flaky'), `attempt ${attempt}`).toHaveLength(attempt);
        const r = await row();
        expect(r).toMatchObject({ attempts: attempt, last_status_code: 500, last_error: 'HTTP 500', last_response: 'boom' });
        if (attempt === MAX_ATTEMPTS) break;
        expect(r.status).toBe('queued');
        const delay = RETRY_DELAYS_MS[attempt - 1];
        expect(dbDate(r.next_attempt_at)!.getTime() - t.clock().getTime()).toBe(delay);
        t.clock.advance(delay - 1000); // not yet due
        await run();
        expect(rx.at('/flaky')).toHaveLength(attempt);
        t.clock.advance(1000);
      }
      const failed = await row();
      expect(failed.status).toBe('failed');
      expect(dbDate(failed.finished_at)).toEqual(t.clock());
      t.clock.advance(3 * DAY);
      await run();
      const sent = rx.at('/flaky');
      expect(sent).toHaveLength(MAX_ATTEMPTS);
      expect(new Set(sent.map((s) => s.body)).size).toBe(1);
      expect(new Set(sent.map((s) => s.headers['x-tessera-delivery']))).toEqual(new Set([String(id)]));
      expect(new Set(sent.map((s) => s.headers['x-tessera-timestamp'])).size).toBe(MAX_ATTEMPTS);
      for (const s of sent) expect(verify(h.secret, s.headers, s.body)).toBe(true);
    });

    it('never follows a redirect, and gives a receiver that does not answer up after the timeout', async () => {
      rx.answer('/moved', { status: 302, location: '/target' });
      rx.answer('/silent', 'hang');
      const moved = await hook('/moved', ['created']);
      const silent = await hook('/silent', ['created']);
      await open();
      const r = await run({ timeoutMs: 300 });
      expect(r).toMatchObject({ delivered: 0, retrying: 2 });
      expect(rx.at('/moved')).toHaveLength(1);
      expect(rx.at('/target')).toHaveLength(0);
      expect(await deliveries(moved.id)).toEqual([expect.objectContaining({ status: 'queued', last_status_code: 302, last_error: expect.stringContaining('redirects are not followed') })]);
      expect(rx.at('/silent')).toHaveLength(1);
      const [s] = await deliveries(silent.id);
      expect(s).toMatchObject({ status: 'queued', last_status_code: null, last_error: expect.stringMatching(/^Timed out/) });
      expect(Number(s.last_duration_ms)).toBeGreaterThanOrEqual(250);
    });

    it("keeps a disabled webhook's queued deliveries waiting, and sends them when it is enabled again", async () => {
      const h = await hook('/paused', ['created']);
      await open();
      await setWebhookActive(t.ctx(admin.actor), h.id, false);
      await run();
      expect(rx.at('/paused')).toHaveLength(0);
      expect((await deliveries(h.id))[0].status).toBe('queued');
      await setWebhookActive(t.ctx(admin.actor), h.id, true);
      await run();
      expect(rx.at('/paused')).toHaveLength(1);
      expect((await deliveries(h.id))[0].status).toBe('delivered');
    });

    it('sends each delivery once with two workers at once, and again (at least once) when its worker died', async () => {
      const h = await hook('/busy', ['note']);
      const ticket = await buildTicket(t.db, { department_id: deptId });
      for (let i = 0; i < 6; i++) await addInternalNote(t.ctx(admin.actor), { ticketId: ticket.id, note: `Note ${i}` });
      const [one, two] = await Promise.all([run({ workerId: 'worker-1' }), run({ workerId: 'worker-2' })]);
      expect(one.delivered + two.delivered).toBe(6);
      expect(new Set(rx.at('/busy').map((r) => r.headers['x-tessera-delivery'])).size).toBe(6);
      expect(rx.at('/busy')).toHaveLength(6);
      // A worker claimed one and died: after the sending timeout it is queued again.
      const [stuck] = await deliveries(h.id);
      await t.db('webhook_deliveries').where({ id: stuck.id }).update({ status: 'sending', locked_by: 'dead-worker', locked_at: toDbDate(t.clock()) });
      t.clock.advance(SENDING_TIMEOUT_MS - 1000);
      expect((await run()).recovered).toBe(0);
      t.clock.advance(2000);
      expect(await run()).toMatchObject({ recovered: 1, delivered: 1 });
      expect(await t.db('webhook_deliveries').where({ id: stuck.id }).first()).toMatchObject({ status: 'delivered', attempts: 2 });
      expect(rx.at('/busy').filter((r) => r.headers['x-tessera-delivery'] === String(stuck.id))).toHaveLength(2);
    });
  });

  describe('addresses (SSRF): public only, unless the setting allows the local network; link-local never', () => {
    const portOf = () => new URL(rx.url).port;

    it('the form refuses an IP address (or localhost) deliveries may not reach, keeping the input; the setting lets loopback and private through, never 169.254.169.254', async () => {
      await allowLocalNetwork(false);
      const refused = ['http://127.0.0.1:9/hook', 'http://10.0.0.7/hook', 'http://169.254.169.254/latest/meta-data/', 'http://[::ffff:127.0.0.1]/in', 'http://localhost:8080/in'];
      for (const url of refused) {
        const res = await submit(adminC, '/scp/admin/webhooks/new', '/scp/admin/webhooks', { name: 'Internal', url, events: ['created'], isActive: 'on' });
        expect(res.status, url).toBe(422);
        const page = $(res.text);
        expect(page('input[name=url]').val(), url).toBe(url);
        expect(page('input[name=name]').val()).toBe('Internal');
        expect(page('#e-url').text(), url).toMatch(url.includes('169.254') ? /link-local \(cloud metadata\) address: webhooks are never sent there/ : /webhooks to the local network are off/);
      }
      // A host name is not resolved on the form (it may resolve differently later): checked at each delivery.
      expect((await submit(adminC, '/scp/admin/webhooks/new', '/scp/admin/webhooks', { name: 'Public', url: 'https://hooks.example.com/in', events: ['created'] })).status).toBe(303);
      await allowLocalNetwork(true);
      expect((await submit(adminC, '/scp/admin/webhooks/new', '/scp/admin/webhooks', { name: 'Local', url: 'http://10.0.0.7/hook', events: ['created'] })).status).toBe(303);
      const meta = await submit(adminC, '/scp/admin/webhooks/new', '/scp/admin/webhooks', { name: 'Metadata', url: 'http://169.254.169.254/latest/meta-data/', events: ['created'] });
      expect(meta.status).toBe(422);
      expect($(meta.text)('#e-url').text()).toMatch(/never sent there/);
      expect((await t.db('webhooks').orderBy('name').pluck('name'))).toEqual(['Local', 'Public']);
    });

    it('the setting is on Admin → Settings, off by default, and an admin changing it is audited', async () => {
      expect(SettingsSchema.parse({}).webhooks_allow_local_network).toBe(false);
      await allowLocalNetwork(false);
      const form = $((await adminC.get('/scp/admin/settings')).text);
      expect(form('input[name=webhooks_allow_local_network]').attr('checked')).toBeUndefined();
      expect(form('label[for=f-webhooks_allow_local_network]').text().trim()).toBe('Allow webhooks to the local network');
      const values = Object.fromEntries(Object.entries(await getSettingsForm(t.ctx(admin.actor))).filter(([, v]) => v !== false && v !== null).map(([k, v]) => [k, v === true ? 'on' : String(v)]));
      const res = await submit(adminC, '/scp/admin/settings', '/scp/admin/settings', { ...values, webhooks_allow_local_network: 'on' });
      expect(res.status).toBe(303);
      expect((await getSettings(t.db)).webhooks_allow_local_network).toBe(true);
      const audit = await t.db('audit_log').where({ action: 'settings.update', agent_id: admin.id }).orderBy('id', 'desc').first();
      expect(JSON.parse(audit.before)).toEqual({ webhooks_allow_local_network: false });
      expect(JSON.parse(audit.after)).toEqual({ webhooks_allow_local_network: true });
    });

    it('with the setting off, deliveries to 127.0.0.1, 10.x, 169.254.169.254 and localhost fail at once before connecting, the reason in the log, nothing sent and no retries', async () => {
      const loop = await hook('/loop', ['created']);
      const ten = await hook('', ['created'], { url: 'http://10.255.255.1/hook' });
      const local = await hook('', ['created'], { url: `http://localhost:${portOf()}/local` });
      const meta = await legacyHook('http://169.254.169.254/latest/meta-data/', ['created']);
      await allowLocalNetwork(false);
      const received = rx.received.length;
      await open();
      expect(await run()).toMatchObject({ delivered: 0, retrying: 0, failed: 4 });
      expect(rx.received).toHaveLength(received);
      const row = async (webhookId: number) => (await deliveries(webhookId))[0];
      for (const id of [loop.id, ten.id, local.id, meta]) {
        expect(await row(id)).toMatchObject({ status: 'failed', attempts: 1, last_status_code: null, last_response: null, finished_at: expect.anything() });
      }
      const off = '(Admin → Settings, “Allow webhooks to the local network”)';
      expect((await row(loop.id)).last_error).toBe(`Refused before connecting: 127.0.0.1 is a loopback address: webhooks to the local network are off ${off}`);
      expect((await row(ten.id)).last_error).toBe(`Refused before connecting: 10.255.255.1 is a private address: webhooks to the local network are off ${off}`);
      expect((await row(meta)).last_error).toBe('Refused before connecting: 169.254.169.254 is a link-local (cloud metadata) address: webhooks are never sent there');
      // A name is refused on what it resolves to (the system's resolver: localhost is 127.0.0.1 or ::1).
      expect((await row(local.id)).last_error).toMatch(/^Refused before connecting: localhost resolves to (127\.0\.0\.1|::1), a loopback address: webhooks to the local network are off/);
      // The log says why.
      const log = $((await adminC.get(`/scp/admin/webhooks/${loop.id}/deliveries`)).text);
      expect(log('tr[data-status=failed]').text()).toContain('Refused before connecting: 127.0.0.1 is a loopback address');
      // No retries: a day later nothing more was tried.
      t.clock.advance(DAY);
      expect(await run()).toMatchObject({ delivered: 0, retrying: 0, failed: 0 });
      expect((await row(loop.id)).attempts).toBe(1);
      expect(rx.received).toHaveLength(received);
      // The admin allows the local network and redelivers: it goes out.
      await allowLocalNetwork(true);
      await redeliverWebhookDelivery(t.ctx(admin.actor), loop.id, (await row(loop.id)).id);
      expect(await run()).toMatchObject({ delivered: 1 });
      expect(rx.at('/loop')).toHaveLength(1);
    });

    it('with the setting on, 169.254.169.254 stays refused: in the URL, IPv4-mapped, or as what a name resolves to (a test ping too)', async () => {
      const resolve: HostResolver = async (host) => (host === 'metadata.tessera.test' ? [{ address: '169.254.169.254', family: 4 }] : [{ address: '127.0.0.1', family: 4 }]);
      const direct = await legacyHook('http://169.254.169.254/latest/meta-data/', ['created']);
      const mapped = await legacyHook('http://[::ffff:a9fe:a9fe]/latest/meta-data/', ['created']);
      const named = await hook('', ['created'], { url: 'http://metadata.tessera.test/computeMetadata/v1/' });
      await sendWebhookPing(t.ctx(admin.actor), named.id);
      const received = rx.received.length;
      await open();
      expect(await run({ resolve })).toMatchObject({ delivered: 0, retrying: 0, failed: 4 });
      expect(rx.received).toHaveLength(received);
      expect((await deliveries(direct))[0].last_error).toMatch(/^Refused before connecting: 169\.254\.169\.254 is a link-local \(cloud metadata\) address: webhooks are never sent there$/);
      expect((await deliveries(mapped))[0].last_error).toMatch(/^Refused before connecting: ::ffff:a9fe:a9fe is a link-local \(cloud metadata\) address/);
      const [ping, created] = await deliveries(named.id);
      expect(ping.event).toBe('ping');
      for (const d of [ping, created]) {
        expect(d).toMatchObject({ status: 'failed', attempts: 1, last_error: 'Refused before connecting: metadata.tessera.test resolves to 169.254.169.254, a link-local (cloud metadata) address: webhooks are never sent there' });
      }
    });

    it('resolves a host name once per attempt, refuses it when any address is refused, and connects to the very address it checked (DNS rebinding cannot swap it)', async () => {
      const calls: string[] = [];
      // A rebinding name: 127.0.0.1 at the first answer, the metadata address at every later one.
      const resolve: HostResolver = async (host) => {
        calls.push(host);
        if (host === 'mixed.tessera.test') return [{ address: '8.8.8.8', family: 4 }, { address: '127.0.0.1', family: 4 }];
        return [{ address: calls.length === 1 ? '127.0.0.1' : '169.254.169.254', family: 4 }];
      };
      const pinned = await hook('', ['created'], { url: `http://hooks.tessera.test:${portOf()}/pinned` });
      await open();
      expect(await run({ resolve })).toMatchObject({ delivered: 1, failed: 0 });
      expect(calls).toEqual(['hooks.tessera.test']);
      const [got] = rx.at('/pinned');
      expect(got.headers.host).toBe(`hooks.tessera.test:${portOf()}`);
      expect((await deliveries(pinned.id))[0]).toMatchObject({ status: 'delivered', last_status_code: 200 });
      // One public and one loopback address, with the setting off: refused, nothing sent.
      await allowLocalNetwork(false);
      const mixed = await hook('', ['created'], { url: `http://mixed.tessera.test:${portOf()}/mixed` });
      await open();
      expect(await run({ resolve })).toMatchObject({ delivered: 0, failed: 2 });
      expect(rx.at('/mixed')).toHaveLength(0);
      expect((await deliveries(mixed.id))[0].last_error).toMatch(/^Refused before connecting: mixed\.tessera\.test resolves to 127\.0\.0\.1, a loopback address/);
    });
  });

  describe('delivery log', () => {
    it('lists deliveries newest first, by status, 25 a page, and shows one with its payload and last answer', async () => {
      const h = await hook('/log', ['created']);
      const ts = toDbDate(t.clock());
      const rows = Array.from({ length: 30 }, (_, i) => ({
        webhook_id: h.id, event: 'closed', actor: '{"kind":"system","id":null}', data: '{}', occurred_at: ts, next_attempt_at: ts, created_at: ts,
        status: i % 3 === 0 ? 'failed' : 'delivered', attempts: i % 3 === 0 ? MAX_ATTEMPTS : 1, last_status_code: i % 3 === 0 ? 503 : 204,
        payload: JSON.stringify({ id: i, event: 'closed', note: `row ${i}` }), last_response: i % 3 === 0 ? 'Service <b>Unavailable</b>' : '',
      }));
      await t.db('webhook_deliveries').insert(rows);
      const ids = (await deliveries(h.id)).map((d) => d.id);
      const base = `/scp/admin/webhooks/${h.id}/deliveries`;
      const page1 = $((await adminC.get(base)).text);
      const listed = page1('tr[data-id]').map((_, tr) => Number(page1(tr).attr('data-id'))).get();
      expect(listed).toEqual([...ids].reverse().slice(0, 25));
      expect(page1('a[rel=next]').attr('href')).toBe(`${base}?page=2`);
      const page2 = $((await adminC.get(`${base}?page=2`)).text);
      expect(page2('tr[data-id]').length).toBe(5);
      const failedPage = $((await adminC.get(`${base}?status=failed`)).text);
      const failedRows = failedPage('tr[data-id]');
      expect(failedRows.length).toBe(10);
      expect(failedRows.map((_, tr) => failedPage(tr).attr('data-status')).get().every((s) => s === 'failed')).toBe(true);
      expect((await adminC.get(`${base}?status=bogus`)).status).toBe(422);
      const failedId = ids[0];
      const detail = $((await adminC.get(`${base}/${failedId}`)).text);
      expect(detail('#delivery-status').text()).toBe('failed');
      expect(detail('#last-status-code').text()).toBe('503');
      expect(JSON.parse(detail('#payload').text())).toEqual({ id: 0, event: 'closed', note: 'row 0' });
      expect(detail('#response').text()).toBe('Service <b>Unavailable</b>'); // shown as text
      // Another webhook's delivery is not found under this one.
      const other = await hook('/other-log', ['created']);
      expect((await adminC.get(`/scp/admin/webhooks/${other.id}/deliveries/${failedId}`)).status).toBe(404);
    });

    it('redelivers a failed delivery with the same id and body, and the admin sends a test ping (not to a disabled webhook)', async () => {
      rx.answer('/redo', { status: 410 });
      const h = await hook('/redo', ['created']);
      await open();
      const [d] = await deliveries(h.id);
      await t.db('webhook_deliveries').where({ id: d.id }).update({ attempts: MAX_ATTEMPTS - 1 });
      await run();
      expect((await t.db('webhook_deliveries').where({ id: d.id }).first()).status).toBe('failed');
      rx.answer('/redo', { status: 200, body: 'thanks' });
      const page = `/scp/admin/webhooks/${h.id}/deliveries/${d.id}`;
      const res = await submit(adminC, page, `${page}/redeliver`, {});
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe(page);
      expect(await t.db('webhook_deliveries').where({ id: d.id }).first()).toMatchObject({ status: 'queued', attempts: 0, finished_at: null });
      await run();
      const sent = rx.at('/redo');
      expect(sent).toHaveLength(2);
      expect(sent[1].body).toBe(sent[0].body);
      expect(sent[1].headers['x-tessera-delivery']).toBe(String(d.id));
      expect(await t.db('webhook_deliveries').where({ id: d.id }).first()).toMatchObject({ status: 'delivered', attempts: 1, last_status_code: 200, last_response: 'thanks' });
      // A non-admin agent cannot redeliver.
      const agent = await buildAgent(t.db, { department_id: deptId });
      const c = await loginAsAgent(t.app, agent.username, agent.password);
      const _csrf = await csrfFrom(c, '/scp/password/forgot');
      expect((await c.post(`${page}/redeliver`).type('form').send({ _csrf })).status).toBe(403);
      expect((await t.db('webhook_deliveries').where({ id: d.id }).first()).status).toBe('delivered');

      // Send test ping.
      const hookPage = `/scp/admin/webhooks/${h.id}`;
      expect((await submit(adminC, hookPage, `${hookPage}/ping`, {})).headers.location).toBe(hookPage);
      const ping = (await deliveries(h.id)).find((x) => x.event === 'ping');
      expect(ping).toMatchObject({ status: 'queued', ticket_id: null });
      await run();
      const got = rx.at('/redo').at(-1)!;
      expect(got.headers['x-tessera-event']).toBe('ping');
      expect(verify(h.secret, got.headers, got.body)).toBe(true);
      expect(JSON.parse(got.body)).toMatchObject({ id: ping.id, event: 'ping', ticket: null, actor: { kind: 'agent', id: admin.id }, data: { webhook: { id: h.id, name: h.name, events: ['created'] } } });
      await setWebhookActive(t.ctx(admin.actor), h.id, false);
      expect($((await adminC.get(hookPage)).text)(`form[action="${hookPage}/ping"]`).length).toBe(0);
      const refused = await submit(adminC, hookPage, `${hookPage}/ping`, {});
      expect(refused.status).toBe(409);
      expect((await deliveries(h.id)).filter((x) => x.event === 'ping')).toHaveLength(1);
      expect(await t.db('audit_log').where({ entity: 'webhook', entity_id: h.id }).whereIn('action', ['webhook.redeliver', 'webhook.ping']).pluck('action')).toEqual(['webhook.redeliver', 'webhook.ping']);
    });
  });

  it(`housekeeping deletes deliveries delivered over ${WEBHOOK_DELIVERED_KEEP_DAYS} days ago and failed ones after ${WEBHOOK_FAILED_KEEP_DAYS}, never queued ones`, async () => {
    const h = await hook('/old', ['created']);
    const now = t.clock().getTime();
    const at = (days: number) => toDbDate(new Date(now - days * DAY));
    const row = (status: string, finishedDaysAgo: number | null) => ({
      webhook_id: h.id, event: 'created', actor: '{}', occurred_at: at(40), next_attempt_at: at(40), created_at: at(40), status, finished_at: finishedDaysAgo === null ? null : at(finishedDaysAgo),
    });
    await t.db('webhook_deliveries').insert([
      row('delivered', WEBHOOK_DELIVERED_KEEP_DAYS + 1), row('delivered', WEBHOOK_DELIVERED_KEEP_DAYS - 1),
      row('failed', WEBHOOK_FAILED_KEEP_DAYS + 1), row('failed', WEBHOOK_DELIVERED_KEEP_DAYS + 1), row('queued', null),
    ]);
    const res = await purgeExpired(t.ctx());
    expect(res.webhookDeliveries).toBe(2);
    expect((await deliveries(h.id)).map((d) => [d.status, Math.round((now - dbDate(d.finished_at ?? d.created_at)!.getTime()) / DAY)])).toEqual([
      ['delivered', WEBHOOK_DELIVERED_KEEP_DAYS - 1], ['failed', WEBHOOK_DELIVERED_KEEP_DAYS + 1], ['queued', 40],
    ]);
  });

  it('the admin index links to the webhooks', async () => {
    expect($((await adminC.get('/scp/admin')).text)('a[href="/scp/admin/webhooks"]').length).toBe(1);
    expect((await client(t.app).get('/scp/admin/webhooks/1/deliveries')).headers.location).toMatch(/^\/scp\/login\?next=/);
  });
});
