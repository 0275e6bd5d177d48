import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { loginAsAgent, submit, $, type Client } from '../support/http.ts';
import { buildAdmin, buildDepartment } from '../factories/index.ts';
import { getSettings } from '../../src/domain/settings/settings-service.ts';
import { getSettingsForm } from '../../src/domain/settings/settings-admin-service.ts';
import type { AgentActor } from '../../src/domain/actor.ts';

let t: TestApp;
let admin: Client;
let actor: AgentActor;

beforeAll(async () => {
  t = await startTestApp();
  const a = await buildAdmin(t.db);
  actor = a.actor;
  admin = await loginAsAgent(t.app, a.username, a.password);
});
afterAll(async () => t.close());

/** The settings form as stored now, with some fields replaced (a form post sends every field). */
async function form(over: Record<string, string | undefined>): Promise<Record<string, string>> {
  const values = await getSettingsForm(t.ctx(actor));
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...values, ...over })) {
    if (v === undefined || v === false) continue;
    out[k] = v === true ? 'on' : Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}

describe('settings', () => {
  it('shows the settings with the public URL read-only', async () => {
    const res = await admin.get('/scp/admin/settings');
    expect(res.status).toBe(200);
    const page = $(res.text);
    expect(page('#f-helpdesk_name').val()).toBe('Tessera Help Desk');
    expect(page('.readonly').text()).toContain('http://helpdesk.test');
    expect(page('input[name=public_url]').length).toBe(0);
  });

  it('saves the form and audits the changed keys only', async () => {
    const res = await submit(admin, '/scp/admin/settings', '/scp/admin/settings', await form({
      helpdesk_name: 'Bank Help', timezone: 'Europe/Berlin', ticket_number_format: 'sequential', attachment_max_mb: '2',
      attachment_allowed_types: '.PDF, png', reopen_on_user_reply: undefined, alert_overdue: undefined, page_size: '50', inbound_address: 'Help@Bank.example',
    }));
    expect(res.status).toBe(303);
    const s = await getSettings(t.db);
    expect(s).toMatchObject({
      helpdesk_name: 'Bank Help', timezone: 'Europe/Berlin', ticket_number_format: 'sequential', attachment_max_bytes: 2 * 1024 * 1024,
      attachment_allowed_types: ['pdf', 'png'], reopen_on_user_reply: false, alert_overdue: false, page_size: 50, inbound_address: 'help@bank.example',
      auto_claim_on_reply: true,
    });
    const audit = await t.db('audit_log').where({ action: 'settings.update' }).orderBy('id', 'desc').first();
    expect(JSON.parse(audit.before)).toMatchObject({ helpdesk_name: 'Tessera Help Desk', reopen_on_user_reply: true });
    expect(Object.keys(JSON.parse(audit.after)).sort()).toEqual(
      ['alert_overdue', 'attachment_allowed_types', 'attachment_max_bytes', 'helpdesk_name', 'inbound_address', 'page_size', 'reopen_on_user_reply', 'ticket_number_format', 'timezone'].sort());
  });

  it('keeps the input and shows errors for bad values', async () => {
    const res = await submit(admin, '/scp/admin/settings', '/scp/admin/settings', await form({
      helpdesk_name: 'Kept', timezone: 'Nowhere/City', page_size: '5', login_max_failures: 'many', attachment_allowed_types: 'p d f!', default_department_id: '',
    }));
    expect(res.status).toBe(422);
    const page = $(res.text);
    for (const f of ['timezone', 'page_size', 'login_max_failures', 'attachment_allowed_types', 'default_department_id']) expect(page(`#e-${f}`).length, f).toBe(1);
    expect(page('#f-helpdesk_name').val()).toBe('Kept');
    expect((await getSettings(t.db)).helpdesk_name).toBe('Bank Help');
  });

  it('names each field in its error as the form labels it (Rows per page, not "Page size")', async () => {
    const page = $((await admin.get('/scp/admin/settings')).text);
    const labels = new Map(page('input[type=number], input[type=email]').map((_i, el) => {
      const name = page(el).attr('name')!;
      return [[name, page(`label[for="f-${name}"]`).clone().children().remove().end().text().trim()]];
    }).get() as [string, string][]);
    expect(labels.get('page_size')).toBe('Rows per page');
    const bad = Object.fromEntries([...labels.keys()].map((name) => [name, name === 'inbound_address' ? 'not-an-address' : '-5']));
    const res = await submit(admin, '/scp/admin/settings', '/scp/admin/settings', await form(bad));
    expect(res.status).toBe(422);
    const errors = $(res.text);
    for (const [name, label] of labels) expect(errors(`#e-${name}`).text(), name).toMatch(new RegExp(`^${label.replace(/[()]/g, '\\$&')}: `));
  });

  it('refuses a disabled department as the default', async () => {
    const dept = await buildDepartment(t.db, { is_active: false });
    const res = await submit(admin, '/scp/admin/settings', '/scp/admin/settings', await form({ default_department_id: String(dept) }));
    expect(res.status).toBe(422);
    expect($(res.text)('#e-default_department_id').length).toBe(1);
  });

  it('reports a disabled default together with the other bad values', async () => {
    const dept = await buildDepartment(t.db, { is_active: false });
    const res = await submit(admin, '/scp/admin/settings', '/scp/admin/settings', await form({ default_department_id: String(dept), page_size: '5' }));
    expect(res.status).toBe(422);
    expect($(res.text)('#e-default_department_id').length).toBe(1);
    expect($(res.text)('#e-page_size').length).toBe(1);
    expect($(res.text)('#f-page_size').val()).toBe('5');
  });

  it('refuses control characters in the help desk name (a line break would cut mail subjects)', async () => {
    for (const name of ['Bank\r\nBcc: evil@example.com', 'Bank\u0085Help', 'Bank\u2028Help', 'Bank\tHelp']) {
      const res = await submit(admin, '/scp/admin/settings', '/scp/admin/settings', await form({ helpdesk_name: name }));
      expect(res.status, JSON.stringify(name)).toBe(422);
      expect($(res.text)('#e-helpdesk_name').length, JSON.stringify(name)).toBe(1);
    }
    expect((await getSettings(t.db)).helpdesk_name).toBe('Bank Help');
    // A bad value already in the table is not used either: the default applies.
    await t.db('settings').where({ key: 'helpdesk_name' }).update({ value: JSON.stringify('Evil\nSubject') });
    expect((await getSettings(t.db)).helpdesk_name).toBe('Tessera Help Desk');
    await t.db('settings').where({ key: 'helpdesk_name' }).update({ value: JSON.stringify('Bank Help') });
  });
});

describe('audit log', () => {
  it('lists changes newest first, with who, and filters by entity', async () => {
    await submit(admin, '/scp/admin/priorities/new', '/scp/admin/priorities', { name: 'Audit prio', urgency: '5', color: '#123456' });
    const res = await admin.get('/scp/admin/audit');
    expect(res.status).toBe(200);
    const page = $(res.text);
    const actions = page('tbody tr').map((_i, el) => page(el).attr('data-action')).get();
    expect(actions[0]).toBe('priority.create');
    expect(actions).toContain('settings.update');
    expect(page('tbody tr').first().text()).toContain(actor.name);
    const filtered = $((await admin.get('/scp/admin/audit?entity=settings')).text);
    const only = filtered('tbody tr').map((_i, el) => filtered(el).attr('data-action')).get();
    expect(only.length).toBeGreaterThan(0);
    expect(only.every((a) => a.startsWith('settings.'))).toBe(true);
    expect(filtered('select[name=entity] option[selected]').val()).toBe('settings');
  });

  it('paginates', async () => {
    for (let i = 0; i < 60; i++) await t.db('audit_log').insert({ actor_kind: 'system', action: 'test.filler', entity: 'filler', created_at: '2026-01-01 00:00:00.000' });
    const page = $((await admin.get('/scp/admin/audit?entity=filler')).text);
    expect(page('tbody tr').length).toBe(50);
    expect(page('nav.pagination a[rel=next]').attr('href')).toBe('/scp/admin/audit?entity=filler&page=2');
    const p2 = $((await admin.get('/scp/admin/audit?entity=filler&page=2')).text);
    expect(p2('tbody tr').length).toBe(10);
  });
});
