import type { Problem } from '../api/problem-fns';
import { nameError } from '../policies/policy-fns';
import type { AttributeFilter, BatchInput, DeviceListProblem } from './batch-types';

/** The batch form's values. */
export interface BatchFormValues {
  name: string;
  policyId: string | null;
  attributeFilter: AttributeFilter;
}

/** The server's bounds on attribute filters. */
export const MAX_FILTERS = 32;

/** The API body for the form's values; rows left entirely empty are dropped. */
export function batchInputOf(v: BatchFormValues): BatchInput {
  const filters = v.attributeFilter.filters
    .map((f) => ({ name: f.name.trim(), value: f.value }))
    .filter((f) => f.name || f.value);
  return {
    name: v.name.trim(),
    policyId: v.policyId ?? '',
    attributeFilter: { operator: v.attributeFilter.operator, filters },
  };
}

/** What the server would refuse in the batch form, by field (the API's paths). */
export function batchErrors(v: BatchFormValues): Record<string, string> {
  const errors: Record<string, string> = {};
  const name = nameError(v.name);
  if (name) errors.name = name;
  if (!v.policyId) errors.policyId = 'Choose a policy (or create one)';
  const rows = v.attributeFilter.filters;
  const at = (i: number, f: string) => `attributeFilter.filters.${i}.${f}`;
  rows.forEach((f, i) => {
    const n = f.name.trim();
    if (!n && !f.value) return;
    if (!n) errors[at(i, 'name')] = 'Name the attribute';
    else if (n.length > 64) errors[at(i, 'name')] = 'Use at most 64 characters';
    if (f.value.length > 256) errors[at(i, 'value')] = 'Use at most 256 characters';
  });
  if (rows.length > MAX_FILTERS)
    errors['attributeFilter.filters'] = `At most ${MAX_FILTERS} filters`;
  return errors;
}

/** The form's values for a batch, or for a new one (copies: editing leaves the batch alone). */
export function batchValues(b?: {
  name: string;
  policyId: string;
  attributeFilter: AttributeFilter;
}): BatchFormValues {
  if (!b) return { name: '', policyId: null, attributeFilter: { operator: 'and', filters: [] } };
  return {
    name: b.name,
    policyId: b.policyId,
    attributeFilter: {
      operator: b.attributeFilter.operator,
      filters: b.attributeFilter.filters.map((x) => ({ ...x })),
    },
  };
}

/** "os = linux AND board = rev-b", or "none". */
export function describeFilter(f: AttributeFilter): string {
  if (!f.filters.length) return 'none';
  return f.filters.map((x) => `${x.name} = ${x.value}`).join(` ${f.operator.toUpperCase()} `);
}

/** Share of a batch's devices, 0 to 100, for the small bars of the batches table. */
export function share(count: number, devices: number): number {
  if (devices <= 0) return 0;
  return Math.min(100, Math.round((count / devices) * 1000) / 10);
}

const HEX = /^[0-9a-f]*$/;

/**
 * Checks one device ID as the server does: 64 hexadecimal digits, uppercase accepted and
 * lowered (the value is the same). The reasons are the server's words.
 */
export function checkDeviceId(
  raw: string,
): { ok: true; id: string } | { ok: false; reason: string } {
  const id = raw.trim().toLowerCase();
  if (!HEX.test(id)) return { ok: false, reason: 'not hexadecimal' };
  if (id.length !== 64)
    return { ok: false, reason: `wrong length: ${id.length} hex digits, a device ID has 64` };
  return { ok: true, id };
}

/**
 * Every bad entry of a device list, in the server's terms (device-list-fns.ts): not a string,
 * not hexadecimal, wrong length, or a repeat of an earlier entry. The server also refuses IDs
 * registered in another batch, which only it can know.
 */
export function checkDeviceList(entries: unknown[]): DeviceListProblem[] {
  const problems: DeviceListProblem[] = [];
  const firstSeen = new Map<string, number>();
  entries.forEach((raw, i) => {
    const entry = i + 1;
    if (typeof raw !== 'string') {
      const shown = JSON.stringify(raw);
      problems.push({ entry, value: (shown ?? String(raw)).slice(0, 80), reason: 'not a string' });
      return;
    }
    const check = checkDeviceId(raw);
    if (!check.ok) {
      problems.push({ entry, value: raw.slice(0, 80), reason: check.reason });
      return;
    }
    const seen = firstSeen.get(check.id);
    if (seen !== undefined) {
      problems.push({ entry, value: raw.slice(0, 80), reason: `duplicate of entry ${seen}` });
      return;
    }
    firstSeen.set(check.id, entry);
  });
  return problems;
}

/**
 * Reads an upload file: JSON `{"devices": [...]}` with at least one entry and nothing else
 * (the server takes no other key). Entries are checked apart, so each bad one is named.
 */
export function parseDeviceFile(
  text: string,
): { ok: true; devices: unknown[] } | { ok: false; reason: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'The file is not JSON. Expected {"devices": ["<64 hex>", ...]}.' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return { ok: false, reason: 'Expected a JSON object: {"devices": ["<64 hex>", ...]}.' };
  const keys = Object.keys(parsed);
  const devices = (parsed as { devices?: unknown }).devices;
  if (!Array.isArray(devices))
    return {
      ok: false,
      reason: 'The object has no "devices" list: {"devices": ["<64 hex>", ...]}.',
    };
  const extra = keys.filter((k) => k !== 'devices');
  if (extra.length)
    return { ok: false, reason: `Unexpected keys besides "devices": ${extra.join(', ')}.` };
  if (devices.length === 0) return { ok: false, reason: 'The "devices" list is empty.' };
  return { ok: true, devices };
}

/** The per-entry problems of a refused upload (a `device-list-rejected` problem), if any. */
export function uploadProblems(
  problem: Problem,
): { problems: DeviceListProblem[]; total: number } | undefined {
  const list = problem.problems;
  if (!Array.isArray(list)) return undefined;
  const problems = list.filter(
    (p): p is DeviceListProblem =>
      typeof p === 'object' &&
      p !== null &&
      typeof (p as DeviceListProblem).entry === 'number' &&
      typeof (p as DeviceListProblem).reason === 'string',
  );
  const total = typeof problem.problemCount === 'number' ? problem.problemCount : problems.length;
  return { problems, total };
}

/** Number of pages for a total; at least one, so an empty list still shows page 1 of 1. */
export function pageCount(total: number, pageSize: number): number {
  return Math.max(1, Math.ceil(total / pageSize));
}
