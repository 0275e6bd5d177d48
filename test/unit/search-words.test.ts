import { describe, expect, it } from 'vitest';
import { MAX_WORD, prefixRange, searchTerms, searchWord, searchWords } from '../../src/domain/tickets/ticket-search-index.ts';

describe('search words (the quick search\'s word index)', () => {
  it('splits a subject into its distinct words: letters and digits of any script, lower case, accents removed', () => {
    expect(searchWords('Café printer OFFLINE — floor 3, printer #2')).toEqual(['cafe', 'printer', 'offline', 'floor', '3', '2']);
    expect(searchWords('Überweisung fehlgeschlagen (Online-Banking)')).toEqual(['uberweisung', 'fehlgeschlagen', 'online', 'banking']);
    expect(searchWords('Не работает VPN')).toEqual(['не', 'работает', 'vpn']);
    expect(searchWords('ﬁle: 😀 ...')).toEqual(['file']);
    expect(searchWords('')).toEqual([]);
    expect(searchWords('!!! --- ???')).toEqual([]);
  });

  it('keeps a long word as its first MAX_WORD characters, when stored and when searched', () => {
    const long = 'x'.repeat(MAX_WORD + 10);
    expect(searchWords(long)).toEqual(['x'.repeat(MAX_WORD)]);
    expect(searchWord(long)).toBe('x'.repeat(MAX_WORD));
    expect(Array.from(searchWord('é'.repeat(MAX_WORD + 5)))).toHaveLength(MAX_WORD);
  });

  it('turns a search into terms, each as typed and as stored, without repeats, longest first', () => {
    expect(searchTerms('VPN  Café vpn')).toEqual([{ typed: 'Café', word: 'cafe' }, { typed: 'VPN', word: 'vpn' }]);
    expect(searchTerms('"quoted" (words)')).toEqual([{ typed: 'quoted', word: 'quoted' }, { typed: 'words', word: 'words' }]);
    expect(searchTerms('#')).toEqual([]);
    expect(searchTerms('a b c d e f g h i j')).toHaveLength(8);
  });

  it('reads a prefix as a range that holds every word starting with it and no other', () => {
    const [lo, hi] = prefixRange('print');
    // As the databases compare them: UTF-8 bytes (SQLite's BINARY), i.e. code points (utf8mb4_bin).
    const cmp = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
    const inRange = (w: string) => cmp(w, lo) >= 0 && cmp(w, hi) < 0;
    for (const w of ['print', 'printer', 'printing', 'print\u{FFFF}', 'printé']) expect(inRange(w), w).toBe(true);
    for (const w of ['prin', 'prino', 'priou', 'pr', 'sprint', '']) expect(inRange(w), w).toBe(false);
  });
});
