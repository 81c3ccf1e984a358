/**
 * The code must agree with test-vectors/*.json (what firmware and other implementations test
 * against): exact bytes where the protocol is deterministic, "must verify" where signatures are
 * randomized, and the exact refusal reason for every tampered case.
 */
import { describe, expect, it } from 'vitest';
import { checkChallenge, issueChallenge } from './challenge/challenge-nonce.js';
import { deviceIdFromSpki } from './identity/device-id.js';
import { type KeyType } from './identity/key-types.js';
import { verifyManifest } from './manifest/manifest-verify.js';
import { type ProofPurpose, buildProofInput } from './proof/proof-input.js';
import { verifyProof } from './proof/proof-verify.js';
import { readVectors } from './test-helpers/test-keys.js';
import { verifyTimeStatement } from './time/time-statement.js';

const hex = (h: string) => Buffer.from(h, 'hex');
const reasonOf = (r: { ok: boolean; reason?: string }) => (r.ok ? 'ok' : r.reason);

describe('device-ids.json', () => {
  const v = readVectors<{
    accepted: { name: string; keyType: string; spkiHex: string; deviceId: string }[];
    refused: { name: string; spkiHex: string; reason: string }[];
  }>('device-ids.json');
  it.each(v.accepted)('$name', (c) => {
    expect(deviceIdFromSpki(hex(c.spkiHex))).toEqual({
      ok: true,
      deviceId: c.deviceId,
      keyType: c.keyType,
    });
  });
  it.each(v.refused)('$name', (c) => {
    expect(reasonOf(deviceIdFromSpki(hex(c.spkiHex)))).toBe(c.reason);
  });
});

describe('challenges.json', () => {
  const v = readVectors<{
    issue: {
      keyHex: string;
      now: string;
      ttlSeconds: number;
      randomHex: string;
      nonce: string;
      expiresAt: string;
    };
    checks: {
      name: string;
      nonce: string;
      now: string;
      keyHex?: string;
      expiresAt?: string;
      reason?: string;
    }[];
  }>('challenges.json');
  it('ok/issue gives the exact nonce', () => {
    const i = v.issue;
    expect(
      issueChallenge(hex(i.keyHex), new Date(i.now), i.ttlSeconds, () => hex(i.randomHex)),
    ).toEqual({
      nonce: i.nonce,
      expiresAt: i.expiresAt,
    });
  });
  it.each(v.checks)('$name', (c) => {
    const r = checkChallenge(hex(c.keyHex ?? v.issue.keyHex), c.nonce, new Date(c.now));
    expect(reasonOf(r)).toBe(c.reason ?? 'ok');
    if (r.ok) expect(r.expiresAt.toISOString()).toBe(c.expiresAt);
  });
});

describe('proofs.json', () => {
  type Req = { host: string; method: string; path: string; bodyText: string };
  const v = readVectors<{
    challengeKeyHex: string;
    now: string;
    cases: {
      name: string;
      keyType: KeyType;
      deviceId: string;
      purpose: ProofPurpose;
      request: Req;
      nonce: string;
      signedInputHex: string;
      header: string;
      tampered: {
        name: string;
        reason: string;
        purpose?: ProofPurpose;
        request?: Partial<Req>;
        header?: string;
        now?: string;
        keyTypes?: KeyType[];
      }[];
    }[];
  }>('proofs.json');
  const toRequest = (r: Req) => ({
    host: r.host,
    method: r.method,
    path: r.path,
    body: Buffer.from(r.bodyText),
  });
  const expectation = (c: { purpose: ProofPurpose; now?: string; keyTypes?: KeyType[] }) => ({
    purpose: c.purpose,
    challengeKey: hex(v.challengeKeyHex),
    now: new Date(c.now ?? v.now),
    ...(c.keyTypes ? { keyTypes: c.keyTypes } : {}),
  });

  describe.each(v.cases)('$name', (c) => {
    it('signed input is byte-exact', () => {
      const input = buildProofInput({
        ...toRequest(c.request),
        purpose: c.purpose,
        nonce: c.nonce,
      });
      expect(input.toString('hex')).toBe(c.signedInputHex);
    });
    it('header verifies', () => {
      const r = verifyProof(c.header, toRequest(c.request), expectation(c));
      expect(r).toMatchObject({
        ok: true,
        deviceId: c.deviceId,
        keyType: c.keyType,
        nonce: c.nonce,
      });
    });
    it.each(c.tampered)('$name', (t) => {
      const r = verifyProof(
        t.header ?? c.header,
        toRequest({ ...c.request, ...t.request }),
        expectation({
          purpose: t.purpose ?? c.purpose,
          ...(t.now ? { now: t.now } : {}),
          ...(t.keyTypes ? { keyTypes: t.keyTypes } : {}),
        }),
      );
      expect(reasonOf(r)).toBe(t.reason);
    });
  });
});

describe('manifests.json', () => {
  type Expected = {
    instanceId: string;
    deviceId: string;
    batchId?: string;
    hardware: Record<string, string>;
    installedSecurityVersion: number;
    now: string;
    kid?: string;
  };
  const v = readVectors<{
    keys: Record<string, { spkiHex: string }>;
    expected: Expected;
    cases: {
      name: string;
      key: string;
      jws: string;
      expected?: Partial<Expected>;
      result: string;
    }[];
  }>('manifests.json');
  it.each(v.cases)('$name', (c) => {
    const e = { ...v.expected, ...c.expected };
    const r = verifyManifest(c.jws, {
      publicKeySpki: hex(v.keys[c.key]!.spkiHex),
      expected: { ...e, now: new Date(e.now) },
    });
    expect(reasonOf(r)).toBe(c.result);
  });
});

describe('time-statements.json', () => {
  const v = readVectors<{
    keys: Record<string, { spkiHex: string }>;
    nonce: string;
    time: string;
    cases: {
      name: string;
      key: string;
      statement: string;
      nonce?: string;
      floor?: string;
      result: string;
    }[];
  }>('time-statements.json');
  it.each(v.cases)('$name', (c) => {
    const r = verifyTimeStatement(c.statement, {
      publicKeySpki: hex(v.keys[c.key]!.spkiHex),
      nonce: c.nonce ?? v.nonce,
      ...(c.floor ? { floor: new Date(c.floor) } : {}),
    });
    expect(reasonOf(r)).toBe(c.result);
    if (r.ok) expect(r.time.toISOString()).toBe(v.time);
  });
});
