import { describe, expect, it } from 'vitest';
import { formatKbBody, formatKbLine, kbExcerpt } from '../../src/domain/kb/kb-format.ts';

describe('formatKbBody', () => {
  it('splits paragraphs on blank lines, keeps single line breaks, and groups bullet lines into lists', () => {
    expect(formatKbBody('One\ntwo\r\n\r\n- a\n* b\nafter')).toEqual([
      { kind: 'p', lines: [[{ text: 'One' }], [{ text: 'two' }]] },
      { kind: 'ul', items: [[{ text: 'a' }], [{ text: 'b' }]] },
      { kind: 'p', lines: [[{ text: 'after' }]] },
    ]);
  });

  it('gives nothing for blank text', () => {
    expect(formatKbBody(' \n\n ')).toEqual([]);
  });
});

describe('formatKbLine', () => {
  it('marks **bold** and leaves a lone ** as text', () => {
    expect(formatKbLine('a **b** c ** d')).toEqual([{ text: 'a ' }, { text: 'b', bold: true }, { text: ' c ** d' }]);
  });

  it('links http(s) addresses only, without trailing punctuation', () => {
    expect(formatKbLine('See https://example.com/x?y=1. Or (http://a.test/b).')).toEqual([
      { text: 'See ' }, { text: 'https://example.com/x?y=1', href: 'https://example.com/x?y=1' }, { text: '. Or (' },
      { text: 'http://a.test/b', href: 'http://a.test/b' }, { text: ').' },
    ]);
    expect(formatKbLine('javascript:alert(1) data:text/html,x ftp://x.test')).toEqual([{ text: 'javascript:alert(1) data:text/html,x ftp://x.test' }]);
  });

  it('keeps markup as text (the views escape it)', () => {
    expect(formatKbLine('<b onclick="x">hi</b>')).toEqual([{ text: '<b onclick="x">hi</b>' }]);
    expect(formatKbLine('https://x.test/"><script>')).toEqual([{ text: 'https://x.test/', href: 'https://x.test/' }, { text: '"><script>' }]);
  });

  it('links inside bold text stay bold', () => {
    expect(formatKbLine('**go to https://x.test now**')).toEqual([{ text: 'go to ', bold: true }, { text: 'https://x.test', href: 'https://x.test', bold: true }, { text: ' now', bold: true }]);
  });
});

describe('kbExcerpt', () => {
  it('drops the formatting marks and cuts long text with an ellipsis', () => {
    expect(kbExcerpt('**Bold** start\n- item')).toBe('Bold start item');
    expect(kbExcerpt('x'.repeat(300), 10)).toBe(`${'x'.repeat(9)}…`);
  });
});
