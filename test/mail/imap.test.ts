/** IMAP polling against a real Dovecot on a loopback port (throwaway configuration). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { processInboundMail } from '../../src/domain/mail/inbound-service.ts';
import { imapClientFor, pollImapOnce } from '../../src/mail/imap-poller.ts';
import { createLogger } from '../../src/logger.ts';
import { writeSettings } from '../../src/domain/settings/settings-service.ts';
import { startDovecot, type Dovecot } from './dovecot.ts';

describe('IMAP polling (imapflow → dovecot)', () => {
  let t: TestApp;
  let imap: Dovecot;
  const append = async (raw: string) => {
    const { client, mailbox } = imapClientFor(imap.url);
    await client.connect();
    try {
      await client.append(mailbox, Buffer.from(raw));
    } finally {
      await client.logout();
    }
  };
  const unseen = async () => {
    const { client, mailbox } = imapClientFor(imap.url);
    await client.connect();
    try {
      const lock = await client.getMailboxLock(mailbox);
      try {
        return ((await client.search({ seen: false }, { uid: true })) || []).length;
      } finally {
        lock.release();
      }
    } finally {
      await client.logout();
    }
  };
  const poll = () => pollImapOnce({ db: t.db, clock: t.clock, publicUrl: 'http://helpdesk.test', logger: createLogger(t.config), url: imap.url });

  beforeAll(async () => {
    imap = await startDovecot();
    t = await startTestApp();
    await writeSettings(t.db, { inbound_address: 'support@helpdesk.test' }, t.clock());
  });
  afterAll(async () => {
    await t?.close();
    await imap?.stop();
  });

  it('files unseen messages (a reply threads, a new mail opens a ticket, a duplicate is stored once) and marks them seen', async () => {
    const first = await processInboundMail(t.ctx(), Buffer.from('From: Lee <lee@customer.test>\r\nTo: support@helpdesk.test\r\nSubject: Wifi\r\nMessage-ID: <lee.1@customer.test>\r\n\r\nNo wifi\r\n'), 'api');
    const auto = await t.db('outbox').where({ ticket_id: first.ticketId, template: 'ticket-autoresponse' }).first();
    await append(`From: Lee <lee@customer.test>\r\nTo: support@helpdesk.test\r\nSubject: Re: [#${first.ticketNumber}] Wifi\r\nMessage-ID: <lee.2@customer.test>\r\nIn-Reply-To: ${auto.message_id}\r\nReferences: <lee.1@customer.test> ${auto.message_id}\r\n\r\nStill no wifi.\r\n\r\n> Thank you for contacting us.\r\n`);
    const fresh = 'From: new@customer.test\r\nTo: support@helpdesk.test\r\nSubject: Printer on fire\r\nMessage-ID: <new.1@customer.test>\r\n\r\nFire!\r\n';
    await append(fresh);
    await append(fresh); // delivered twice to the mailbox
    await append('garbage without any headers');
    expect(await unseen()).toBe(4);

    const results = await poll();
    expect(results.map((r) => r.outcome)).toEqual(['threaded', 'created', 'ignored', 'rejected']);
    expect(results[0].ticketId).toBe(first.ticketId);
    expect(results[2].reason).toBe('duplicate');
    const entries = await t.db('thread_entries').where({ ticket_id: first.ticketId }).orderBy('id');
    expect(entries.at(-1)).toMatchObject({ body: 'Still no wifi.', source: 'email', message_id: '<lee.2@customer.test>' });
    expect(await t.db('tickets').where({ subject: 'Printer on fire', source: 'email' })).toHaveLength(1);
    expect(await unseen()).toBe(0);
    expect(await poll()).toEqual([]);
  });
});
