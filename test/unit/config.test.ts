import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

describe('loadConfig', () => {
  it('defaults to SQLite under DATA_DIR and port 3000', () => {
    const c = loadConfig({ NODE_ENV: 'test', SESSION_SECRET: 's'.repeat(32), DATA_DIR: '/tmp/t-data' });
    expect(c.port).toBe(3000);
    expect(c.database).toEqual({ client: 'sqlite', filename: '/tmp/t-data/tessera.sqlite' });
    expect(c.publicUrl).toBe('http://localhost:3000');
  });
  it('reads a MySQL DATABASE_URL', () => {
    const c = loadConfig({ NODE_ENV: 'test', SESSION_SECRET: 's'.repeat(32), DATABASE_URL: 'mysql://u:p@db:3306/helpdesk' });
    expect(c.database).toEqual({ client: 'mysql', url: 'mysql://u:p@db:3306/helpdesk' });
  });
  it('names the variable when a value is bad', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ DATABASE_URL: 'postgres://x' })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ SMTP_URL: 'http://x' })).toThrow(/SMTP_URL/);
  });
  it('requires SESSION_SECRET in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/SESSION_SECRET/);
  });
  it('refuses the test clock in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', SESSION_SECRET: 's'.repeat(32), TEST_CLOCK: '1' })).toThrow(/TEST_CLOCK/);
  });
  it('generates and keeps a development secret under DATA_DIR', () => {
    const dir = `/tmp/tessera-cfg-${process.pid}-${Date.now()}`;
    const a = loadConfig({ NODE_ENV: 'development', DATA_DIR: dir });
    const b = loadConfig({ NODE_ENV: 'development', DATA_DIR: dir });
    expect(a.sessionSecret.length).toBeGreaterThanOrEqual(32);
    expect(b.sessionSecret).toBe(a.sessionSecret);
  });
});

describe('request log redaction', () => {
  it('hides token values in logged URLs', async () => {
    const { redactTokens } = await import('../../src/app.ts');
    expect(redactTokens('/tickets/access?token=abc123&x=1')).toBe('/tickets/access?token=[redacted]&x=1');
    expect(redactTokens('/scp/tickets/1/reply?_csrf=zzz')).toBe('/scp/tickets/1/reply?_csrf=[redacted]');
    expect(redactTokens('/scp/password/reset?TOKEN=q')).toBe('/scp/password/reset?TOKEN=[redacted]');
    expect(redactTokens('/plain')).toBe('/plain');
  });
});
