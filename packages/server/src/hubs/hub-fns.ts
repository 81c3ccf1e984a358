import { OBSCURED, SECRET_FIELDS, type Hub, type HubRecord, type HubType } from './hub-types.js';

/** The write-only field names of a hub type. */
export function secretFieldsOf(type: HubType): readonly string[] {
  return SECRET_FIELDS[type];
}

/**
 * Splits settings as sent into what is stored in clear and the secret values given. A secret
 * that is absent, empty or OBSCURED was not given (the caller keeps the stored one).
 */
export function splitSecrets(
  type: HubType,
  settings: Record<string, unknown>,
): { plain: Record<string, unknown>; given: Record<string, string> } {
  const fields = new Set(secretFieldsOf(type));
  const plain: Record<string, unknown> = {};
  const given: Record<string, string> = {};
  for (const [k, v] of Object.entries(settings)) {
    if (!fields.has(k)) plain[k] = v;
    else if (typeof v === 'string' && v !== '' && v !== OBSCURED) given[k] = v;
  }
  return { plain, given };
}

/**
 * The secrets after an update: given values replace stored ones, the rest are kept. Returns
 * the fields still missing, which a hub of this type cannot work without.
 */
export function mergeSecrets(
  type: HubType,
  stored: Record<string, string>,
  given: Record<string, string>,
): { secrets: Record<string, string>; missing: string[] } {
  const secrets: Record<string, string> = {};
  for (const f of secretFieldsOf(type)) {
    const v = given[f] ?? stored[f];
    if (v !== undefined) secrets[f] = v;
  }
  const missing = secretFieldsOf(type).filter((f) => secrets[f] === undefined);
  return { secrets, missing };
}

/** The API view of a hub: secret fields shown as OBSCURED, never their values. */
export function presentHub(rec: HubRecord, secretNames: readonly string[]): Hub {
  const settings: Record<string, unknown> = { ...rec.settings };
  const secrets: Record<string, { set: boolean }> = {};
  for (const f of secretFieldsOf(rec.type)) {
    const set = secretNames.includes(f);
    secrets[f] = { set };
    if (set) settings[f] = OBSCURED;
  }
  return {
    id: rec.id,
    name: rec.name,
    type: rec.type,
    settings,
    secrets,
    createdAt: rec.createdAt,
    updatedAt: rec.updatedAt,
  };
}
