/**
 * A request's settings ride along with its first read (its session, its API key): settingsColumn
 * reads the settings table as one column, primeSettings makes it the request's memo. They must be
 * exactly what getSettings reads from the table, on both dialects, and cost no statement after.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../support/test-db.ts';
import { fromOneRow } from '../../src/db/dialect.ts';
import { getSettings, primeSettings, settingsColumn, writeSettings } from '../../src/domain/settings/settings-service.ts';
import { withRequestMemo } from '../../src/domain/request-memo.ts';

describe('settings read along with a request\'s first statement', () => {
  let tdb: TestDb;
  beforeAll(async () => {
    tdb = await createTestDb();
    // Values of every shape, with quotes, backslashes, non-ASCII and emoji.
    await writeSettings(tdb.db, {
      helpdesk_name: 'Ünïcode "quoted" \\ desk 🎫', timezone: 'Europe/Berlin', page_size: 40, default_sla_plan_id: null,
      attachment_allowed_types: ['pdf', 'png'], api_rate_limit_per_minute: 1234,
    }, new Date());
  });
  afterAll(async () => tdb?.destroy());

  it('primes the request with the same settings getSettings reads, and getSettings then issues no statement', async () => {
    const fromTable = await getSettings(tdb.db); // outside a request: reads the table
    expect(fromTable.helpdesk_name).toBe('Ünïcode "quoted" \\ desk 🎫');
    expect(fromTable.page_size).toBe(40);
    let statements = 0;
    const count = () => void (statements += 1);
    await withRequestMemo(async () => {
      const row = await fromOneRow(tdb.db).first(settingsColumn(tdb.db));
      primeSettings(row.settings_rows);
      tdb.db.on('query', count);
      try {
        expect(await getSettings(tdb.db)).toEqual(fromTable);
        expect(await getSettings(tdb.db)).toEqual(fromTable);
      } finally {
        tdb.db.removeListener('query', count);
      }
    });
    expect(statements).toBe(0);
  });

  it('ignores a column that does not parse (getSettings reads the table) and never replaces what the request has', async () => {
    const fromTable = await getSettings(tdb.db);
    let statements = 0;
    const count = () => void (statements += 1);
    await withRequestMemo(async () => {
      primeSettings('{"helpdesk_name": "\\"cut'); // an aggregate cut short
      primeSettings('[["helpdesk_name", "\\"Other\\""]]'); // not an object: ignored too, never taken as "no settings stored"
      tdb.db.on('query', count);
      try {
        expect(await getSettings(tdb.db)).toEqual(fromTable);
      } finally {
        tdb.db.removeListener('query', count);
      }
      primeSettings(JSON.stringify({ helpdesk_name: JSON.stringify('Other') })); // the request has its settings already
      expect((await getSettings(tdb.db)).helpdesk_name).toBe(fromTable.helpdesk_name);
    });
    expect(statements).toBe(1);
  });

  it('reads a change at once on either path (the parsed settings are remembered by the table\'s text, not for a time)', async () => {
    const before = await getSettings(tdb.db);
    await withRequestMemo(async () => primeSettings((await fromOneRow(tdb.db).first(settingsColumn(tdb.db))).settings_rows));
    await writeSettings(tdb.db, { page_size: before.page_size + 5, attachment_allowed_types: ['pdf', 'png', 'txt'] }, new Date());
    try {
      expect((await getSettings(tdb.db)).page_size).toBe(before.page_size + 5);
      await withRequestMemo(async () => {
        primeSettings((await fromOneRow(tdb.db).first(settingsColumn(tdb.db))).settings_rows);
        const s = await getSettings(tdb.db);
        expect(s.page_size).toBe(before.page_size + 5);
        expect(s.attachment_allowed_types).toEqual(['pdf', 'png', 'txt']);
      });
    } finally {
      await writeSettings(tdb.db, { page_size: before.page_size, attachment_allowed_types: before.attachment_allowed_types }, new Date());
    }
    expect(await getSettings(tdb.db)).toEqual(before);
  });

  it('hands each caller its own settings: changing them changes nothing for the next request, and a shared list cannot be changed', async () => {
    const first = await getSettings(tdb.db);
    const pageSize = first.page_size;
    first.page_size = 999;
    expect(() => first.attachment_allowed_types.push('exe')).toThrow(TypeError);
    const again = await getSettings(tdb.db);
    expect(again.page_size).toBe(pageSize);
    expect(again.attachment_allowed_types).not.toContain('exe');
    // The same table text is parsed once: both reads share its (frozen) list.
    expect(again.attachment_allowed_types).toBe(first.attachment_allowed_types);
    await withRequestMemo(async () => {
      const s = await getSettings(tdb.db);
      s.helpdesk_name = 'Changed in one request';
      expect((await getSettings(tdb.db)).helpdesk_name).not.toBe('Changed in one request');
    });
  });
});
