import pg from 'pg';

/**
 * A timestamptz as PostgreSQL writes it with the ISO DateStyle in UTC (the default of a server
 * whose time zone is UTC: `2026-11-26 04:40:52.123456+00`), turned into what
 * `new Date(v).toISOString()` gives (milliseconds, the rest cut) by moving characters: every
 * row of a check-in carries several, and building a Date for each cost more than the rest of
 * reading the row. Any other form (another zone, `infinity`, a year of other than four digits)
 * goes through Date as before.
 */
export function timestamptzToIso(v: string): string {
  const n = v.length;
  if (
    n >= 22 &&
    v.charCodeAt(4) === 45 && // -
    v.charCodeAt(10) === 32 && // space
    v.charCodeAt(n - 3) === 43 && // +
    v.charCodeAt(n - 2) === 48 && // 0
    v.charCodeAt(n - 1) === 48 && // 0
    (n === 22 || v.charCodeAt(19) === 46) // . before the fraction
  ) {
    const ms = n === 22 ? '000' : (v.slice(20, Math.min(23, n - 3)) + '00').slice(0, 3);
    return `${v.slice(0, 10)}T${v.slice(11, 19)}.${ms}Z`;
  }
  return new Date(v).toISOString();
}

const toNumber = (v: string) => Number(v);
const timestampToIso = (v: string) => new Date(v).toISOString();

/**
 * pg hands int8 (counts) back as strings and timestamptz as Date; the rest of the code sees
 * numbers and ISO-8601 strings on both dialects, so results compare equal across them. The
 * parsers are made once: pg asks for them for every column of every result.
 */
export const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20) return toNumber;
    if (oid === 1184) return timestamptzToIso;
    if (oid === 1114) return timestampToIso;
    return pg.types.getTypeParser(oid, format as 'text');
  },
} as unknown as pg.CustomTypesConfig;
