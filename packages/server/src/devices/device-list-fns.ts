/** One problem with one entry of an uploaded device list. */
export interface DeviceListProblem {
  /** 1-based position in the list, as people count lines. */
  entry: number;
  value: string;
  reason: string;
}

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Checks the shape of every entry of a device list and finds duplicates within it. Device IDs
 * are lowercase hex; uppercase is accepted and lowered, since the value is the same.
 */
export function checkDeviceList(entries: unknown[]): {
  ids: string[];
  problems: DeviceListProblem[];
} {
  const problems: DeviceListProblem[] = [];
  const ids: string[] = [];
  const firstSeen = new Map<string, number>();
  entries.forEach((raw, i) => {
    const entry = i + 1;
    if (typeof raw !== 'string') {
      problems.push({
        entry,
        value: JSON.stringify(raw)?.slice(0, 80) ?? String(raw),
        reason: 'not a string',
      });
      return;
    }
    const id = raw.trim().toLowerCase();
    const shown = raw.slice(0, 80);
    if (!/^[0-9a-f]*$/.test(id)) {
      problems.push({ entry, value: shown, reason: 'not hexadecimal' });
      return;
    }
    if (!HEX64.test(id)) {
      problems.push({
        entry,
        value: shown,
        reason: `wrong length: ${id.length} hex digits, a device ID has 64`,
      });
      return;
    }
    const seen = firstSeen.get(id);
    if (seen !== undefined) {
      problems.push({ entry, value: shown, reason: `duplicate of entry ${seen}` });
      return;
    }
    firstSeen.set(id, entry);
    ids.push(id);
  });
  return { ids, problems };
}
