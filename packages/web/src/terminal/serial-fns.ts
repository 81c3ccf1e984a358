/** Pure parts of the terminal: what is sent, how the buffer is kept, what the search finds. */

export const BAUD_RATES = [
  9600, 19200, 38400, 57600, 74880, 115200, 230400, 460800, 921600,
] as const;
export const DEFAULT_BAUD = 115200;

/** Most text kept in the buffer; older lines go first, so a long session stays responsive. */
export const MAX_BUFFER = 256 * 1024;

/** A typed line as sent to the device: with a carriage return and/or line feed when chosen. */
export function lineToSend(text: string, ending: { cr: boolean; lf: boolean }): string {
  return `${text}${ending.cr ? '\r' : ''}${ending.lf ? '\n' : ''}`;
}

/**
 * The buffer after `chunk` arrives, at most `max` characters: when too long, the oldest text
 * is dropped up to a line break, so the first line shown is a whole one.
 */
export function appendBounded(buffer: string, chunk: string, max = MAX_BUFFER): string {
  const all = buffer + chunk;
  if (all.length <= max) return all;
  const cut = all.length - max;
  const nl = all.indexOf('\n', cut);
  return nl >= 0 && nl - cut < 4096 ? all.slice(nl + 1) : all.slice(cut);
}

/** Where `query` occurs in `text`, case-insensitively; an empty query finds nothing. */
export function findMatches(text: string, query: string): number[] {
  if (!query) return [];
  const hay = text.toLowerCase();
  const needle = query.toLowerCase();
  const out: number[] = [];
  for (let i = hay.indexOf(needle); i >= 0; i = hay.indexOf(needle, i + needle.length)) out.push(i);
  return out;
}

export interface Segment {
  text: string;
  /** The match's number (0-based) when this segment is a match. */
  match?: number;
}

/** The text cut into plain and matching parts, for highlighting. */
export function segments(text: string, query: string): Segment[] {
  const at = findMatches(text, query);
  if (!at.length) return [{ text }];
  const out: Segment[] = [];
  let pos = 0;
  at.forEach((i, n) => {
    if (i > pos) out.push({ text: text.slice(pos, i) });
    out.push({ text: text.slice(i, i + query.length), match: n });
    pos = i + query.length;
  });
  if (pos < text.length) out.push({ text: text.slice(pos) });
  return out;
}

/**
 * Terminal text for display: carriage returns before a line feed are dropped (CRLF shows as
 * one break) and lone ones too, so device output with either ending reads the same.
 */
export function displayText(raw: string): string {
  return raw.replace(/\r\n/g, '\n').replace(/\r/g, '');
}
