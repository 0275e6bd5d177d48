import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { oneLine } from '../../src/mail/mail-render.ts';
import { queueMail } from '../../src/domain/mail/outbox-service.ts';
import { writeSettings } from '../../src/domain/settings/settings-service.ts';

describe('outgoing mail headers cannot be injected', () => {
  it('oneLine folds CR, LF, tabs and other control characters into one line', () => {
    expect(oneLine('Hello\r\nBcc: victim@example.com')).toBe('Hello Bcc: victim@example.com');
    expect(oneLine('a\rb\nc\u0000d\u001be\u007ff\tg')).toBe('a b c d e f g');
    expect(oneLine('x'.repeat(300))).toHaveLength(255);
    expect(oneLine('  spaced   out  ')).toBe('spaced out');
  });

  describe('queueMail', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp();
    });
    afterAll(async () => t.close());

    it('stores names and the subject as single lines even when they carry CRLF', async () => {
      await writeSettings(t.db, { helpdesk_name: 'Desk\r\nBcc: evil@example.com' }, t.clock());
      const id = await queueMail(t.ctx(), t.db, {
        template: 'password-reset', to: 'Agent@Example.com', toName: 'Eve\r\nBcc: evil@example.com', fromName: 'Support\nX-Injected: 1',
        vars: { name: 'Eve', link: 'http://helpdesk.test/x', minutes: 60 },
      });
      const row = await t.db('outbox').where({ id }).first();
      for (const v of [row.subject, row.to_name, row.from_name]) expect(v).not.toMatch(/[\r\n]/);
      // A help desk name with a line break is refused by the settings schema, so a stored one is
      // ignored and the default name is used; names given per message are folded to one line.
      expect(row.subject.startsWith('Reset your Tessera Help Desk')).toBe(true);
      expect(row.to_name).toBe('Eve Bcc: evil@example.com');
      expect(row.headers ?? '').not.toContain('Bcc');
      expect(row.to_address).toBe('agent@example.com');
    });
  });
});
