/** Loop protection reads any Auto-Submitted other than "no" as automatic, whichever RFC 3834 keyword we send. */
import { describe, expect, it } from 'vitest';
import { simpleParser } from 'mailparser';
import { isAutoSubmitted } from '../../src/domain/mail/inbound-classify.ts';

const parse = (extra: string) => simpleParser(Buffer.from(`From: a@x.test\r\nSubject: s\r\n${extra}\r\nbody\r\n`));

describe('isAutoSubmitted', () => {
  it.each(['auto-replied', 'auto-generated', 'Auto-Generated', 'auto-notified', 'auto-generated; owner-email="a@x.test"'])('Auto-Submitted: %s is automatic', async (v) => {
    expect(isAutoSubmitted(await parse(`Auto-Submitted: ${v}\r\n`))).toBe(true);
  });

  it('Auto-Submitted: no, or none at all, is a person', async () => {
    expect(isAutoSubmitted(await parse('Auto-Submitted: no\r\n'))).toBe(false);
    expect(isAutoSubmitted(await parse(''))).toBe(false);
  });

  it('our alerts as queued (auto-generated + X-Auto-Response-Suppress) are automatic', async () => {
    expect(isAutoSubmitted(await parse('Auto-Submitted: auto-generated\r\nX-Auto-Response-Suppress: OOF, AutoReply\r\n'))).toBe(true);
  });
});
