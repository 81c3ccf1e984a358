import { describe, expect, it } from 'vitest';
import { appendBounded, displayText, findMatches, lineToSend, segments } from './serial-fns';

describe('terminal', () => {
  it.each([
    ['ok/no ending', { cr: false, lf: false }, 'help'],
    ['ok/CR', { cr: true, lf: false }, 'help\r'],
    ['ok/LF', { cr: false, lf: true }, 'help\n'],
    ['ok/CR LF', { cr: true, lf: true }, 'help\r\n'],
  ])('%s', (_n, ending, want) => expect(lineToSend('help', ending)).toBe(want));

  it('ok/the buffer keeps the newest text, from a whole line', () => {
    expect(appendBounded('ab\n', 'cd\n', 100)).toBe('ab\ncd\n');
    expect(appendBounded('line1\nline2\n', 'line3\n', 10)).toBe('line3\n');
    // No line break near the cut: cut anywhere rather than drop everything.
    expect(appendBounded('', 'x'.repeat(20), 10)).toBe('x'.repeat(10));
  });

  it('ok/search is case-insensitive and finds every occurrence', () => {
    expect(findMatches('Boot ok\nboot again', 'BOOT')).toEqual([0, 8]);
    expect(findMatches('aaaa', 'aa')).toEqual([0, 2]);
    expect(findMatches('abc', '')).toEqual([]);
  });

  it('ok/segments mark the matches in order', () => {
    expect(segments('a ok b OK', 'ok')).toEqual([
      { text: 'a ' },
      { text: 'ok', match: 0 },
      { text: ' b ' },
      { text: 'OK', match: 1 },
    ]);
    expect(segments('none', 'x')).toEqual([{ text: 'none' }]);
  });

  it('ok/line endings show as line breaks', () => {
    expect(displayText('a\r\nb\rc\n')).toBe('a\nbc\n');
  });
});
