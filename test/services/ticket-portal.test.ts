import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { openTicket } from '../../src/domain/tickets/ticket-service.ts';
import {
  closeTicketByUser, getTicketForUser, loadPortalActor, openPortalSession, openPortalTicket, requestAccessLink, useAccessLink,
} from '../../src/domain/tickets/ticket-portal-service.ts';
import { ANONYMOUS, type UserActor } from '../../src/domain/actor.ts';
import { InvalidTransition, NotFound, ValidationFailed } from '../../src/domain/errors.ts';
import { toDbDate } from '../../src/db/dialect.ts';

describe('ticket-portal-service', () => {
  let t: TestApp;
  let mine: { id: number; number: string; userId: number };
  let other: { id: number; number: string; userId: number };
  let actor: UserActor;
  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
    mine = await openTicket(t.ctx(ANONYMOUS), { email: 'cat@example.com', name: 'Cat', subject: 'Mine', message: 'M' });
    other = await openTicket(t.ctx(ANONYMOUS), { email: 'dan@example.com', name: 'Dan', subject: 'Other', message: 'O' });
    actor = (await loadPortalActor(t.db, { userId: mine.userId, ticketIds: [mine.id] }))!;
  });
  afterAll(async () => t.close());

  describe('loadPortalActor', () => {
    it('is null without tickets granted, and limited to the granted tickets otherwise', async () => {
      expect(await loadPortalActor(t.db, { userId: mine.userId })).toBeNull();
      expect(await loadPortalActor(t.db, { userId: mine.userId, ticketIds: [] })).toBeNull();
      expect(actor).toMatchObject({ kind: 'user', id: mine.userId, email: 'cat@example.com', ticketIds: [mine.id] });
    });
  });

  describe('openPortalTicket', () => {
    it('refuses a filled honeypot with SPAM_SUSPECTED and writes nothing', async () => {
      const before = await t.db('tickets').count({ n: '*' });
      const err = await openPortalTicket(t.ctx(ANONYMOUS), { email: 'x@example.com', name: 'X', subject: 'S', message: 'M', topicId: '1', website: 'x' }, []).catch((e) => e);
      expect(err).toBeInstanceOf(ValidationFailed);
      expect(err.code).toBe('SPAM_SUSPECTED');
      expect(await t.db('tickets').count({ n: '*' })).toEqual(before);
    });
    it('requires a topic while public topics exist', async () => {
      const err = await openPortalTicket(t.ctx(ANONYMOUS), { email: 'x@example.com', name: 'X', subject: 'S', message: 'M' }, []).catch((e) => e);
      expect(err).toBeInstanceOf(ValidationFailed);
      expect(Object.keys(err.fields)).toEqual(['topicId']);
    });
  });

  describe('openPortalSession', () => {
    it('returns the ticket for the right pair, case-insensitively and with a leading #', async () => {
      expect(await openPortalSession(t.ctx(ANONYMOUS), { email: 'CAT@example.com', number: `#${mine.number}` })).toEqual({ userId: mine.userId, ticketId: mine.id, number: mine.number });
    });
    it('refuses a wrong pair with TICKET_ACCESS_DENIED', async () => {
      const err = await openPortalSession(t.ctx(ANONYMOUS), { email: 'cat@example.com', number: other.number }).catch((e) => e);
      expect(err).toBeInstanceOf(ValidationFailed);
      expect(err.code).toBe('TICKET_ACCESS_DENIED');
    });
    it('refuses arrays and objects instead of values', async () => {
      const err = await openPortalSession(t.ctx(ANONYMOUS), { email: ['cat@example.com'], number: { $ne: '' } } as any).catch((e) => e);
      expect(err).toBeInstanceOf(ValidationFailed);
      expect(Object.keys(err.fields).sort()).toEqual(['email', 'number']);
    });
  });

  describe('requestAccessLink', () => {
    it('queues nothing for a wrong pair and stops after 5 links per ticket in 15 minutes', async () => {
      await requestAccessLink(t.ctx(ANONYMOUS), { email: 'dan@example.com', number: mine.number });
      expect(await t.db('outbox').where({ template: 'access-link' }).count({ n: '*' })).toEqual([{ n: 0 }]);
      for (let i = 0; i < 6; i++) await requestAccessLink(t.ctx(ANONYMOUS), { email: 'cat@example.com', number: mine.number });
      // The auto-response already carried one token, so four more are sent.
      const [{ n }] = await t.db('outbox').where({ template: 'access-link', to_address: 'cat@example.com' }).count({ n: '*' });
      expect(Number(n)).toBe(4);
    });
  });

  describe('useAccessLink', () => {
    it('opens the ticket until the token expires; an empty token never matches', async () => {
      const mail = await t.db('outbox').where({ template: 'access-link' }).orderBy('id', 'desc').first();
      const token = decodeURIComponent(/token=([\w%-]+)/.exec(mail.text_body)![1]);
      expect(await useAccessLink(t.ctx(ANONYMOUS), token)).toEqual({ userId: mine.userId, ticketId: mine.id, number: mine.number });
      const later = { ...t.ctx(ANONYMOUS), clock: () => new Date('2026-03-03T10:00:01Z') };
      expect(await useAccessLink(later, token)).toBeNull();
      expect(await useAccessLink(t.ctx(ANONYMOUS), '')).toBeNull();
    });
  });

  describe('getTicketForUser', () => {
    it('leaves out internal notes', async () => {
      await t.db('thread_entries').insert({ ticket_id: mine.id, kind: 'note', poster_name: 'Agent', body: 'secret note', source: 'web', created_at: toDbDate(t.clock()) });
      const view = await getTicketForUser(t.ctx(actor), mine.number);
      if ('mergedInto' in view) throw new Error('not merged');
      expect(view.entries.map((e) => e.kind)).toEqual(['message']);
      expect(JSON.stringify(view)).not.toContain('secret note');
    });
    it('is NotFound for another user’s ticket, a malformed number and an anonymous actor', async () => {
      for (const [a, n] of [[actor, other.number], [actor, '../1'], [ANONYMOUS, mine.number]] as const)
        await expect(getTicketForUser(t.ctx(a), n)).rejects.toBeInstanceOf(NotFound);
    });
  });

  describe('closeTicketByUser', () => {
    it('is NotFound for another user’s ticket', async () => {
      await expect(closeTicketByUser(t.ctx(actor), other.number)).rejects.toBeInstanceOf(NotFound);
      expect((await t.db('tickets').where({ id: other.id }).first()).state).toBe('open');
    });
    it('closes once, then refuses with ALREADY_CLOSED', async () => {
      await closeTicketByUser(t.ctx(actor), mine.number);
      const row = await t.db('tickets').where({ id: mine.id }).first();
      expect(row).toMatchObject({ status: 'closed', state: 'closed', version: 2 });
      const err = await closeTicketByUser(t.ctx(actor), mine.number).catch((e) => e);
      expect(err).toBeInstanceOf(InvalidTransition);
      expect(err.code).toBe('ALREADY_CLOSED');
      expect(await t.db('ticket_events').where({ ticket_id: mine.id, event: 'closed' }).count({ n: '*' })).toEqual([{ n: 1 }]);
    });
  });
});
