import { describe, expect, it } from 'vitest';
import type { Request } from 'express';
import { flash, FLASH_MAX } from '../../src/web/shared/render.ts';

const requestWith = (session: Record<string, unknown> | undefined) => ({ session }) as unknown as Request;

describe('flash messages waiting for the next page', () => {
  it('keeps a message once however often it is queued (a client that posts without loading the page it is sent to)', () => {
    const session: Record<string, any> = {};
    for (let i = 0; i < 1000; i++) flash(requestWith(session), 'success', 'Your reply was posted.');
    expect(session.flash).toEqual([{ type: 'success', message: 'Your reply was posted.' }]);
  });

  it(`keeps only the newest ${FLASH_MAX}, in the order they came, so the session row stays small`, () => {
    const session: Record<string, any> = {};
    for (let i = 1; i <= 12; i++) flash(requestWith(session), 'info', `message ${i}`);
    expect(session.flash.map((f: { message: string }) => f.message)).toEqual(['message 8', 'message 9', 'message 10', 'message 11', 'message 12']);
  });

  it('moves a repeated message to the end, and tells types apart', () => {
    const session: Record<string, any> = {};
    flash(requestWith(session), 'error', 'A');
    flash(requestWith(session), 'info', 'A');
    flash(requestWith(session), 'error', 'B');
    flash(requestWith(session), 'error', 'A');
    expect(session.flash).toEqual([{ type: 'info', message: 'A' }, { type: 'error', message: 'B' }, { type: 'error', message: 'A' }]);
  });

  it('does nothing without a session', () => {
    expect(() => flash(requestWith(undefined), 'info', 'x')).not.toThrow();
  });
});
