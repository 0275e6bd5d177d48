import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { client, csrfFrom, loginAsAgent, submit, $, type Client } from '../support/http.ts';
import { openViaStatus } from './portal-support.ts';
import { buildAdmin, buildAgent, buildDepartment, type BuiltAgent } from '../factories/index.ts';
import { openTicket } from '../../src/domain/tickets/ticket-service.ts';
import { ANONYMOUS } from '../../src/domain/actor.ts';

/** The hidden fields of the ticket page's reply form (CSRF token, version, last event seen). */
async function replyForm(c: Client, id: number) {
  const page = $((await c.get(`/scp/tickets/${id}`)).text);
  const form = page(`form[action^="/scp/tickets/${id}/reply"]`);
  return { page, form, hidden: { _csrf: String(page('input[name=_csrf]').first().val()), version: String(form.find('input[name=version]').val()), seen: String(form.find('input[name=seen]').val()) } };
}

describe('signatures over HTTP', () => {
  let t: TestApp;
  let billing: number;
  let sam: BuiltAgent;
  let samC: Client;
  /** A ticket from Pat, moved to Billing (Sam's department). */
  const open = async (subject = 'Invoice is wrong') => {
    const o = await openTicket(t.ctx(ANONYMOUS), { email: 'pat@example.com', name: 'Pat Customer', subject, message: 'Please check' });
    await t.db('tickets').where({ id: o.id }).update({ department_id: billing });
    return o;
  };
  const agentRow = (id: number) => t.db('agents').where({ id }).first();

  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
    billing = await buildDepartment(t.db, { name: 'Billing', signature: 'The Billing team' });
    sam = await buildAgent(t.db, { department_id: billing, name: 'Sam' });
    samC = await loginAsAgent(t.app, sam.username, sam.password);
  });
  afterAll(async () => t.close());
  beforeEach(async () => {
    await t.db('rate_limits').delete();
  });

  describe('the agent’s own signature on the account page', () => {
    it('is saved from the profile form, shown again, and recorded', async () => {
      const a = await buildAgent(t.db, { department_id: billing });
      const c = await loginAsAgent(t.app, a.username, a.password);
      const form = $((await c.get('/scp/profile')).text);
      expect(form('textarea#f-signature').attr('maxlength')).toBe('2000');
      const res = await submit(c, '/scp/profile', '/scp/profile', { name: 'Ada', signature: 'Ada <b>Lovelace</b>\r\nAnalytical support' });
      expect([res.status, res.headers.location]).toEqual([303, '/scp/profile']);
      expect((await agentRow(a.id)).signature).toBe('Ada <b>Lovelace</b>\nAnalytical support');
      const page = await c.get('/scp/profile');
      expect(page.text).not.toContain('<b>Lovelace</b>');
      expect($(page.text)('#f-signature').val()).toBe('Ada <b>Lovelace</b>\nAnalytical support');
      const audit = await t.db('audit_log').where({ action: 'agent.profile', entity_id: a.id }).orderBy('id', 'desc').first();
      expect(JSON.parse(audit.after)).toMatchObject({ signature: 'Ada <b>Lovelace</b>\nAnalytical support' });
    });

    it('refuses one that is too long (422), keeping the input and the old signature', async () => {
      const a = await buildAgent(t.db, { department_id: billing, signature: 'Old one' });
      const c = await loginAsAgent(t.app, a.username, a.password);
      const long = 'x'.repeat(2001);
      const res = await submit(c, '/scp/profile', '/scp/profile', { name: 'Ada', signature: long });
      expect(res.status).toBe(422);
      const page = $(res.text);
      expect(page('#e-signature').length).toBe(1);
      expect(page('#f-signature').val()).toBe(long);
      expect((await agentRow(a.id)).signature).toBe('Old one');
    });

    it('cannot be set by an anonymous visitor or a portal user (sent to sign in, nothing changes)', async () => {
      const before = (await agentRow(sam.id)).signature;
      const anon = client(t.app);
      const anonToken = await csrfFrom(anon, '/scp/password/forgot');
      const anonRes = await anon.post('/scp/profile').type('form').send({ _csrf: anonToken, name: 'X', signature: 'Hijacked' });
      expect(anonRes.status).toBe(303);
      expect(anonRes.headers.location).toBe('/scp/login');
      const o = await open();
      const user = client(t.app);
      expect((await openViaStatus(user, 'pat@example.com', o.number)).status).toBe(303);
      expect((await user.get(`/tickets/${o.number}`)).status).toBe(200); // signed in to the portal
      // The portal's session is not the panel's (a cookie each): with the portal form's token the POST is refused
      // outright; with a valid token of the panel (same browser), the user is sent to sign in as an agent.
      const portalToken = await csrfFrom(user, `/tickets/${o.number}`);
      expect((await user.post('/scp/profile').type('form').send({ _csrf: portalToken, name: 'X', signature: 'Hijacked' })).status).toBe(403);
      const scpToken = await csrfFrom(user, '/scp/password/forgot');
      const userRes = await user.post('/scp/profile').type('form').send({ _csrf: scpToken, name: 'X', signature: 'Hijacked' });
      expect(userRes.status).toBe(303);
      expect(userRes.headers.location).toBe('/scp/login');
      expect((await agentRow(sam.id)).signature).toBe(before);
      expect(await t.db('agents').where({ signature: 'Hijacked' })).toHaveLength(0);
    });
  });

  describe('admin forms', () => {
    it('an admin sets a department’s and an agent’s signature', async () => {
      const admin = await buildAdmin(t.db);
      const adminC = await loginAsAgent(t.app, admin.username, admin.password);
      const dept = await buildDepartment(t.db, { name: 'Sales' });
      const d = await submit(adminC, `/scp/admin/departments/${dept}`, `/scp/admin/departments/${dept}`, { name: 'Sales', signature: 'The Sales team\r\nsales@example.com' });
      expect(d.status).toBe(303);
      expect((await t.db('departments').where({ id: dept }).first()).signature).toBe('The Sales team\nsales@example.com');
      expect($((await adminC.get(`/scp/admin/departments/${dept}`)).text)('#f-signature').val()).toBe('The Sales team\nsales@example.com');
      const a = await buildAgent(t.db, { department_id: dept });
      const r = await submit(adminC, `/scp/admin/agents/${a.id}`, `/scp/admin/agents/${a.id}`, { name: 'Al', username: a.username, email: a.email, role: 'agent', departmentId: String(dept), signature: 'Al from Sales' });
      expect(r.status).toBe(303);
      expect((await agentRow(a.id)).signature).toBe('Al from Sales');
      const tooLong = await submit(adminC, `/scp/admin/departments/${dept}`, `/scp/admin/departments/${dept}`, { name: 'Sales', signature: 'y'.repeat(2001) });
      expect(tooLong.status).toBe(422);
      expect($(tooLong.text)('#e-signature').length).toBe(1);
      expect($(tooLong.text)('#f-signature').val()).toBe('y'.repeat(2001));
    });

    it('a non-admin agent cannot set a department’s signature (403, nothing changes)', async () => {
      const token = await csrfFrom(samC, '/scp/profile');
      const res = await samC.post(`/scp/admin/departments/${billing}`).type('form').send({ _csrf: token, name: 'Billing', signature: 'Hijacked' });
      expect(res.status).toBe(403);
      expect($(res.text)('h1').text()).not.toContain('expired'); // refused as a non-admin, not for the form's token
      expect(res.text).toContain('Only administrators');
      expect((await t.db('departments').where({ id: billing }).first()).signature).toBe('The Billing team');
    });
  });

  describe('the reply form', () => {
    it('offers the signatures that are not empty, mine preselected, each shown; none but None: a hint instead', async () => {
      const o = await open();
      const deptOnly = $((await samC.get(`/scp/tickets/${o.id}`)).text);
      expect(deptOnly('#f-signature option').map((_, el) => deptOnly(el).attr('value')).get()).toEqual(['none', 'dept']);
      expect(deptOnly('#f-signature option[selected]').attr('value')).toBe('dept');
      await t.db('agents').where({ id: sam.id }).update({ signature: 'Sam <i>S.</i>\nBilling desk' });
      const { page } = await replyForm(samC, o.id);
      expect(page('#f-signature option').map((_, el) => page(el).attr('value')).get()).toEqual(['none', 'mine', 'dept']);
      expect(page('#f-signature option[selected]').attr('value')).toBe('mine');
      expect(page('.signature-preview[data-signature=mine] pre').text()).toBe('Sam <i>S.</i>\nBilling desk');
      expect(page('.signature-preview[data-signature=dept] pre').text()).toBe('The Billing team');
      expect(page('.signature-preview[data-signature=dept] .hint').text()).toContain('Billing');
      // A department and an agent without signatures: no select, a hint to the profile.
      const bare = await buildDepartment(t.db);
      const b = await buildAgent(t.db, { department_id: bare });
      const bC = await loginAsAgent(t.app, b.username, b.password);
      await t.db('tickets').where({ id: o.id }).update({ department_id: bare });
      const none = $((await bC.get(`/scp/tickets/${o.id}`)).text);
      expect(none('#f-signature').length).toBe(0);
      expect(none('.signature-none a').attr('href')).toBe('/scp/profile');
      await t.db('tickets').where({ id: o.id }).update({ department_id: billing });
      await t.db('agents').where({ id: sam.id }).update({ signature: null });
    });

    it('appends the chosen signature: in the thread and in the mail queued for the user', async () => {
      await t.db('agents').where({ id: sam.id }).update({ signature: 'Sam\nBilling desk' });
      const o = await open();
      const { hidden } = await replyForm(samC, o.id);
      const res = await samC.post(`/scp/tickets/${o.id}/reply`).type('form').send({ ...hidden, message: 'Refund issued.', notifyUser: 'user', status: '', signature: 'mine' });
      expect(res.status).toBe(303);
      const page = $((await samC.get(`/scp/tickets/${o.id}`)).text);
      expect(page('.thread .entry-response .body').last().text()).toBe('Refund issued.\n\nSam\nBilling desk');
      const mail = await t.db('outbox').where({ ticket_id: o.id, template: 'agent-response' }).first();
      expect(mail.to_address).toBe('pat@example.com');
      expect(mail.text_body).toContain('Refund issued.\n\nSam\nBilling desk');
      expect(mail.html_body).toContain('Billing desk');
      const second = await replyForm(samC, o.id);
      expect((await samC.post(`/scp/tickets/${o.id}/reply`).type('form').send({ ...second.hidden, message: 'From us all.', signature: 'dept' })).status).toBe(303);
      expect(await t.db('thread_entries').where({ ticket_id: o.id, kind: 'response' }).orderBy('id').pluck('body')).toEqual(['Refund issued.\n\nSam\nBilling desk', 'From us all.\n\nThe Billing team']);
      await t.db('agents').where({ id: sam.id }).update({ signature: null });
    });

    it('refuses an unknown signature (422): the form again with the error and the text kept', async () => {
      const o = await open();
      const { hidden } = await replyForm(samC, o.id);
      const res = await samC.post(`/scp/tickets/${o.id}/reply`).type('form').send({ ...hidden, message: 'Keep me', signature: 'ceo' });
      expect(res.status).toBe(422);
      const page = $(res.text);
      expect(page('#e-signature').length).toBe(1);
      expect(page('#f-message').val()).toBe('Keep me');
      expect(await t.db('thread_entries').where({ ticket_id: o.id, kind: 'response' })).toHaveLength(0);
    });

    it('keeps the chosen signature through "this ticket changed" and posts it with "Post reply anyway"', async () => {
      const o = await open();
      const { hidden } = await replyForm(samC, o.id);
      const { addUserMessage } = await import('../../src/domain/tickets/ticket-service.ts');
      await addUserMessage(t.ctx({ kind: 'system' }), { ticketId: o.id, message: 'One more thing' });
      const res = await samC.post(`/scp/tickets/${o.id}/reply`).type('form').send({ ...hidden, message: 'Done.', notifyUser: 'user', signature: 'dept' });
      expect(res.status).toBe(409);
      const page = $(res.text);
      const form = page(`form[action="/scp/tickets/${o.id}/reply"]`);
      expect(form.find('input[name=signature]').val()).toBe('dept');
      expect(page('.resubmit-choices').text()).toContain('the department’s signature is added');
      expect(await t.db('thread_entries').where({ ticket_id: o.id, kind: 'response' })).toHaveLength(0);
      const data: Record<string, string> = {};
      form.find('input, textarea').each((_, el) => void (data[page(el).attr('name')!] = String(page(el).val() ?? '')));
      const ok = await samC.post(`/scp/tickets/${o.id}/reply`).type('form').send(data);
      expect(ok.status).toBe(303);
      expect(await t.db('thread_entries').where({ ticket_id: o.id, kind: 'response' }).pluck('body')).toEqual(['Done.\n\nThe Billing team']);
    });
  });
});
