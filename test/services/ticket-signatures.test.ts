import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statementsDuring } from '../support/statements.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { buildAdmin, buildAgent, buildDepartment, buildTicket, buildUser, type BuiltAgent } from '../factories/index.ts';
import { replyToTicket } from '../../src/domain/tickets/ticket-agent-service.ts';
import { getTicketForAgent } from '../../src/domain/tickets/ticket-agent-view.ts';
import { getAgentProfile, updateAgentProfile } from '../../src/domain/auth/agent-account-service.ts';
import { getDepartment, updateDepartment } from '../../src/domain/departments/department-service.ts';
import { getAgent, updateAgent } from '../../src/domain/agents/agent-service.ts';
import { ANONYMOUS, SYSTEM, type ApiActor, type UserActor } from '../../src/domain/actor.ts';
import { Conflict, Forbidden, ValidationFailed } from '../../src/domain/errors.ts';

describe('signatures (services)', () => {
  let t: TestApp;
  let dept: number;
  let signed: BuiltAgent; // has a signature
  let plain: BuiltAgent; // has none
  let admin: BuiltAgent;
  const api: ApiActor = { kind: 'api', keyId: 1, canCreateTickets: true, canManageTickets: true };
  const body = async (entryId: number) => (await t.db('thread_entries').where({ id: entryId }).first()).body;

  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
    dept = await buildDepartment(t.db, { name: 'Billing', signature: '  The Billing team\nbilling@example.com  ' });
    signed = await buildAgent(t.db, { department_id: dept, name: 'Sam', signature: 'Sam Signer\nLevel 2 support' });
    plain = await buildAgent(t.db, { department_id: dept, name: 'Pat' });
    admin = await buildAdmin(t.db);
  });
  afterAll(async () => t.close());

  describe('replyToTicket', () => {
    it('appends my signature, the department’s (trimmed), or none, to the stored body and to the mail', async () => {
      const tk = await buildTicket(t.db, { department_id: dept });
      const mine = await replyToTicket(t.ctx(signed.actor), { ticketId: tk.id, message: 'Fixed.', signature: 'mine' });
      expect(await body(mine.entryId)).toBe('Fixed.\n\nSam Signer\nLevel 2 support');
      const dep = await replyToTicket(t.ctx(signed.actor), { ticketId: tk.id, message: 'Also this.', signature: 'dept' });
      expect(await body(dep.entryId)).toBe('Also this.\n\nThe Billing team\nbilling@example.com');
      const none = await replyToTicket(t.ctx(signed.actor), { ticketId: tk.id, message: 'Plain.', signature: 'none' });
      expect(await body(none.entryId)).toBe('Plain.');
      const omitted = await replyToTicket(t.ctx(signed.actor), { ticketId: tk.id, message: 'Omitted.' });
      expect(await body(omitted.entryId)).toBe('Omitted.');
      const mail = await t.db('outbox').where({ ticket_id: tk.id, template: 'agent-response' }).orderBy('id').pluck('text_body');
      expect(mail).toHaveLength(4);
      expect(mail[0]).toContain('Sam Signer\nLevel 2 support');
      expect(mail[1]).toContain('The Billing team\nbilling@example.com');
      expect(mail[2]).not.toContain('Sam Signer');
    });

    it('adds nothing for a signature that is empty (cleared since the form was shown)', async () => {
      const tk = await buildTicket(t.db, { department_id: dept });
      const r = await replyToTicket(t.ctx(plain.actor), { ticketId: tk.id, message: 'No signature of mine.', signature: 'mine' });
      expect(await body(r.entryId)).toBe('No signature of mine.');
    });

    it('reads the signature with the locked ticket: no statement more than a reply without one', async () => {
      const tk = await buildTicket(t.db, { department_id: dept });
      const count = async (signature?: string) => (await statementsDuring(t.db, () => replyToTicket(t.ctx(signed.actor), { ticketId: tk.id, message: 'Counted', signature }))).statements;
      const without = await count();
      const withMine = await count('mine');
      const withDept = await count('dept');
      expect(withMine.length).toBe(without.length);
      expect(withDept.length).toBe(without.length);
      const read = withDept.find((s) => /chosen_signature/.test(s.sql))!;
      expect(read.sql).toMatch(/from `tickets`/);
      // Inside the transaction, after BEGIN and before the entry is written.
      const at = (pred: (sql: string) => boolean, list = withDept) => list.findIndex((s) => pred(s.sql));
      const begin = at((s) => /^(begin|start transaction)/i.test(s));
      const commit = at((s) => /^commit/i.test(s));
      expect(begin).toBeGreaterThanOrEqual(0);
      expect(begin).toBeLessThan(withDept.indexOf(read));
      expect(withDept.indexOf(read)).toBeLessThan(at((s) => /insert into `thread_entries`/.test(s)));
      expect(withDept.indexOf(read)).toBeLessThan(commit);
    });

    it('lets an API key add the department’s signature (it has none of its own)', async () => {
      const tk = await buildTicket(t.db, { department_id: dept });
      const r = await replyToTicket(t.ctx(api), { ticketId: tk.id, message: 'From the API.', signature: 'dept' });
      expect(await body(r.entryId)).toBe('From the API.\n\nThe Billing team\nbilling@example.com');
    });

    describe('invalid input', () => {
      it.each(['mine ', 'team', 'MINE', '1', ['mine'], { a: 1 }])('refuses the signature %j (422) and writes nothing', async (signature) => {
        const tk = await buildTicket(t.db, { department_id: dept });
        const err = await replyToTicket(t.ctx(signed.actor), { ticketId: tk.id, message: 'x', signature: signature as never }).catch((e) => e);
        expect(err).toBeInstanceOf(ValidationFailed);
        expect([err.status, Object.keys(err.fields)]).toEqual([422, ['signature']]);
        expect(await t.db('thread_entries').where({ ticket_id: tk.id, kind: 'response' })).toHaveLength(0);
      });

      it('refuses "mine" from an API key or the system (no signature of their own)', async () => {
        const tk = await buildTicket(t.db, { department_id: dept });
        for (const actor of [api, SYSTEM]) {
          const err = await replyToTicket(t.ctx(actor), { ticketId: tk.id, message: 'x', signature: 'mine' }).catch((e) => e);
          expect(err).toBeInstanceOf(ValidationFailed);
          expect(Object.keys(err.fields)).toEqual(['signature']);
        }
      });
    });

    describe('forbidden', () => {
      it('refuses a user or an anonymous visitor, whatever the signature', async () => {
        const tk = await buildTicket(t.db, { department_id: dept });
        const user: UserActor = { kind: 'user', id: tk.userId, email: 'u@example.com', name: 'U' };
        for (const actor of [user, ANONYMOUS]) {
          for (const signature of ['mine', 'dept', undefined]) {
            await expect(replyToTicket(t.ctx(actor), { ticketId: tk.id, message: 'x', signature })).rejects.toBeInstanceOf(Forbidden);
          }
        }
      });
    });

    describe('stale version', () => {
      it('is a Conflict (TICKET_CHANGED) with a signature too, and writes nothing', async () => {
        const tk = await buildTicket(t.db, { department_id: dept });
        await t.db('tickets').where({ id: tk.id }).update({ version: 3 });
        const err = await replyToTicket(t.ctx(signed.actor), { ticketId: tk.id, version: 1, message: 'x', signature: 'mine' }).catch((e) => e);
        expect(err).toBeInstanceOf(Conflict);
        expect(err.code).toBe('TICKET_CHANGED');
        expect(await t.db('thread_entries').where({ ticket_id: tk.id, kind: 'response' })).toHaveLength(0);
      });
    });
  });

  describe('the reply form’s choice (getTicketForAgent)', () => {
    it('offers only the signatures that are not empty, mine first by default, then the department’s', async () => {
      const tk = await buildTicket(t.db, { department_id: dept });
      const both = (await getTicketForAgent(t.ctx(signed.actor), tk.id)).signatures;
      expect(both.options.map((o) => o.value)).toEqual(['none', 'mine', 'dept']);
      expect(both.selected).toBe('mine');
      expect(both.previews).toEqual([
        { value: 'mine', label: 'My signature', text: 'Sam Signer\nLevel 2 support' },
        { value: 'dept', label: 'Department signature (Billing)', text: 'The Billing team\nbilling@example.com' },
      ]);
      const deptOnly = (await getTicketForAgent(t.ctx(plain.actor), tk.id)).signatures;
      expect([deptOnly.options.map((o) => o.value), deptOnly.selected]).toEqual([['none', 'dept'], 'dept']);
      // A department whose signature is only blanks, and an admin without one: nothing but none.
      const bare = await buildDepartment(t.db, { signature: '   ' });
      const other = await buildTicket(t.db, { department_id: bare });
      const none = (await getTicketForAgent(t.ctx(admin.actor), other.id)).signatures;
      expect([none.options.map((o) => o.value), none.selected, none.previews]).toEqual([['none'], 'none', []]);
      await t.db('agents').where({ id: admin.id }).update({ signature: 'Admin' });
      expect((await getTicketForAgent(t.ctx(admin.actor), other.id)).signatures).toMatchObject({ selected: 'mine', options: [{ value: 'none' }, { value: 'mine' }] });
      await t.db('agents').where({ id: admin.id }).update({ signature: null });
    });

    it('reads the signatures with the ticket (no statement more), and none for the API', async () => {
      const tk = await buildTicket(t.db, { department_id: dept });
      const { result, statements } = await statementsDuring(t.db, () => getTicketForAgent(t.ctx(api), tk.id));
      expect(result.signatures.options.map((o) => o.value)).toEqual(['none', 'dept']);
      expect(statements.filter((s) => /signature/.test(s.sql))).toHaveLength(1);
    });
  });

  describe('an agent’s own signature (updateAgentProfile)', () => {
    it('saves it (line breaks as \\n, trimmed), shows it on the profile, records the change, and removes it when empty', async () => {
      const a = await buildAgent(t.db, { department_id: dept, name: 'Robin' });
      await updateAgentProfile(t.ctx(a.actor), { name: 'Robin', signature: '  Robin\r\nSupport desk\r\n' });
      expect((await getAgentProfile(t.ctx(a.actor))).signature).toBe('Robin\nSupport desk');
      const audit = await t.db('audit_log').where({ action: 'agent.profile', entity_id: a.id }).orderBy('id', 'desc').first();
      expect([JSON.parse(audit.before), JSON.parse(audit.after)]).toEqual([{ signature: null }, { signature: 'Robin\nSupport desk' }]);
      await updateAgentProfile(t.ctx(a.actor), { name: 'Robin', signature: '' });
      expect((await t.db('agents').where({ id: a.id }).first()).signature).toBeNull();
    });

    it('accepts 2,000 characters (a line break counting as one) and refuses more (422), keeping the old one', async () => {
      const a = await buildAgent(t.db, { department_id: dept, signature: 'Old' });
      const atMost = `${'x'.repeat(999)}\r\n${'y'.repeat(1000)}`;
      await updateAgentProfile(t.ctx(a.actor), { name: 'A', signature: atMost });
      expect((await t.db('agents').where({ id: a.id }).first()).signature).toHaveLength(2000);
      const err = await updateAgentProfile(t.ctx(a.actor), { name: 'A', signature: 'z'.repeat(2001) }).catch((e) => e);
      expect(err).toBeInstanceOf(ValidationFailed);
      expect(Object.keys(err.fields)).toEqual(['signature']);
      expect((await t.db('agents').where({ id: a.id }).first()).signature).toHaveLength(2000);
      await expect(updateAgentProfile(t.ctx(a.actor), { name: 'A', signature: ['x'] as never })).rejects.toBeInstanceOf(ValidationFailed);
    });

    it('is the signed-in agent’s only: a user, an anonymous visitor, an API key or the system are refused', async () => {
      const u = await buildUser(t.db);
      const user: UserActor = { kind: 'user', id: u.id, email: u.email, name: u.name };
      for (const actor of [user, ANONYMOUS, api, SYSTEM]) {
        await expect(updateAgentProfile(t.ctx(actor), { name: 'X', signature: 'Hijacked' })).rejects.toMatchObject({ code: 'AGENT_ONLY' });
      }
      expect(await t.db('agents').where({ signature: 'Hijacked' })).toHaveLength(0);
    });
  });

  describe('admin forms', () => {
    it('an admin sets a department’s signature and an agent’s; the audit row holds the change', async () => {
      const d = await buildDepartment(t.db, { name: 'Sales' });
      await updateDepartment(t.ctx(admin.actor), d, { name: 'Sales', signature: 'The Sales team\r\n' });
      expect((await getDepartment(t.ctx(admin.actor), d)).signature).toBe('The Sales team');
      const dAudit = await t.db('audit_log').where({ action: 'department.update', entity_id: d }).orderBy('id', 'desc').first();
      expect(JSON.parse(dAudit.after)).toMatchObject({ signature: 'The Sales team' });
      const a = await buildAgent(t.db, { department_id: d });
      await updateAgent(t.ctx(admin.actor), a.id, { name: 'Al', username: a.username, email: a.email, role: 'agent', departmentId: d, signature: 'Al, Sales' });
      expect((await getAgent(t.ctx(admin.actor), a.id)).signature).toBe('Al, Sales');
      const err = await updateDepartment(t.ctx(admin.actor), d, { name: 'Sales', signature: 'x'.repeat(2001) }).catch((e) => e);
      expect(err).toBeInstanceOf(ValidationFailed);
      expect(Object.keys(err.fields)).toEqual(['signature']);
    });

    it('a non-admin agent may not set a department’s signature, nor another agent’s', async () => {
      await expect(updateDepartment(t.ctx(signed.actor), dept, { name: 'Billing', signature: 'Hijacked' })).rejects.toBeInstanceOf(Forbidden);
      await expect(updateAgent(t.ctx(signed.actor), plain.id, { name: 'Pat', username: plain.username, email: plain.email, role: 'agent', departmentId: dept, signature: 'Hijacked' }))
        .rejects.toBeInstanceOf(Forbidden);
      expect((await t.db('departments').where({ id: dept }).first()).signature).not.toBe('Hijacked');
      expect((await t.db('agents').where({ id: plain.id }).first()).signature).toBeNull();
    });
  });
});
