import { describe, expect, it } from 'vitest';
import { findInterpolatedRawSql, findUnsafeEjs } from '../../scripts/lint-security.ts';

describe('lint:security', () => {
  describe('unescaped EJS output', () => {
    it('allows escaped output, includes and the layout body', () => {
      const ok = ['<p><%= name %></p>', "<%- include('../partials/csrf-field') %>", '<%- body %>', "<%-include('x')%>"].join('\n');
      expect(findUnsafeEjs('v.ejs', ok)).toEqual([]);
    });
    it('flags <%- with anything else, with its line', () => {
      const bad = ['<p>', '<%- message %>', '<%- include("x") %> <%- other %>'].join('\n');
      expect(findUnsafeEjs('v.ejs', bad).map((f) => f.line)).toEqual([2, 3]);
    });
    it('allows a line marked sanitised on the same or the previous line, but not further away', () => {
      expect(findUnsafeEjs('v.ejs', '<%# sanitised: nl2br %>\n<p><%- nl2br(message) %></p>')).toEqual([]);
      expect(findUnsafeEjs('v.ejs', '<p><%- nl2br(message) %></p> <%# sanitised: nl2br %>')).toEqual([]);
      expect(findUnsafeEjs('v.ejs', '<%# sanitised: nl2br %>\n\n<p><%- nl2br(message) %></p>')).toHaveLength(1);
      expect(findUnsafeEjs('v.ejs', '<%# nl2br escapes it %>\n<p><%- nl2br(message) %></p>')).toHaveLength(1);
    });
  });

  describe('interpolated raw SQL', () => {
    it('flags raw/whereRaw/orderByRaw with ${} in a template literal', () => {
      const src = [
        'db.raw(`select ${x}`);',
        "q.whereRaw(`name = '${name}'`);",
        'q.orderByRaw(`${col} desc`);',
        'trx.raw(`SELECT 1`);',
        "db.raw('?? = ?', [a, b]);",
        'db.raw(`strftime(?, ??)`, [f, c]);',
      ].join('\n');
      expect(findInterpolatedRawSql('a.ts', src).map((f) => f.line)).toEqual([1, 2, 3]);
    });
    it('allows a fragment of constants marked sql-safe', () => {
      expect(findInterpolatedRawSql('a.ts', '// sql-safe: SECONDS is a constant expression\ndb.raw(`${SECONDS} AS d`);')).toEqual([]);
      expect(findInterpolatedRawSql('a.ts', 'db.raw(`${SECONDS} AS d`); // sql-safe: constant')).toEqual([]);
    });
    it('ignores other calls with template literals', () => {
      expect(findInterpolatedRawSql('a.ts', 'log.info(`user ${id}`); res.redirect(`/t/${id}`);')).toEqual([]);
    });
  });
});
