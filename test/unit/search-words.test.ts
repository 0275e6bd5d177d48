import { describe, expect, it } from 'vitest';
import { MAX_WORD, prefixRange, SEARCH_TEXT_MAX, searchTerms, searchText, searchWords, wordsOfSearchText } from '../../src/domain/tickets/ticket-search-index.ts';

describe('search words (the quick search\'s word index)', () => {
  it('splits a subject into its distinct words: letters and digits of any script, lower case, accents removed', () => {
    expect(searchWords('Café printer OFFLINE — floor 3, printer #2')).toEqual(['cafe', 'printer', 'offline', 'floor', '3', '2']);
    expect(searchWords('Überweisung fehlgeschlagen (Online-Banking)')).toEqual(['uberweisung', 'fehlgeschlagen', 'online', 'banking']);
    expect(searchWords('Не работает VPN')).toEqual(['не', 'работает', 'vpn']);
    expect(searchWords('ﬁle: 😀 ...')).toEqual(['file']);
    // Split after normalising: a character that decomposes into several words gives those words.
    expect(searchWords('½ day ﷺ')).toEqual(['1', '2', 'day', 'صلى', 'الله', 'عليه', 'وسلم']);
    expect(searchWords('½')).toEqual(searchWords('1/2'));
    expect(searchWords('')).toEqual([]);
    expect(searchWords('!!! --- ???')).toEqual([]);
  });

  it('keeps a long word as its first MAX_WORD characters, when stored and when searched', () => {
    const long = 'x'.repeat(MAX_WORD + 10);
    expect(searchWords(long)).toEqual(['x'.repeat(MAX_WORD)]);
    expect(searchTerms(long)).toEqual(['x'.repeat(MAX_WORD)]);
    expect(Array.from(searchWords('é'.repeat(MAX_WORD + 5))[0])).toHaveLength(MAX_WORD);
  });

  it('turns a search into its terms, as stored, without repeats, at most 8', () => {
    expect(searchTerms('VPN  Café vpn')).toEqual(['vpn', 'cafe']);
    expect(searchTerms('"quoted" (words)')).toEqual(['quoted', 'words']);
    expect(searchTerms('#')).toEqual([]);
    expect(searchTerms('a b c d e f g h i j')).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
  });

  it('writes search_text as the distinct words, each after a space, and leaves out a word that would not fit, from the words too', () => {
    expect(searchText('Café printer OFFLINE — printer #2')).toBe(' cafe printer offline 2');
    expect(wordsOfSearchText(searchText('Café printer OFFLINE — printer #2'))).toEqual(searchWords('Café printer OFFLINE — printer #2'));
    const subject = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');
    const text = searchText(subject);
    expect(text.length).toBeLessThanOrEqual(SEARCH_TEXT_MAX);
    expect(text.startsWith(' word0 word1 ')).toBe(true);
    expect(wordsOfSearchText(text)).toEqual(searchWords(subject).slice(0, wordsOfSearchText(text).length));
    expect(text).not.toContain('word59');
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
