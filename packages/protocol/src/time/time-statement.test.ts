import { describe, expect, it } from 'vitest';
import { nodeKeySigner } from '../identity/signatures.js';
import { signJws } from '../jws/jws-compact.js';
import { testKey } from '../test-helpers/test-keys.js';
import { TIME_JWS_TYPE, signTimeStatement, verifyTimeStatement } from './time-statement.js';

const key = testKey('signing-P-256');
const signer = { ...nodeKeySigner(key.privateKey), kid: 'time-1' };
const nonce = Buffer.alloc(16, 5).toString('base64url');
const time = new Date('2026-03-01T12:00:00.000Z');

describe('signed time', () => {
  it('ok/signs and verifies, returning the signed time', async () => {
    const jws = await signTimeStatement({ nonce, time }, signer);
    expect(
      verifyTimeStatement(jws, { publicKeySpki: key.spki, nonce, floor: time, kid: 'time-1' }),
    ).toEqual({
      ok: true,
      time,
      kid: 'time-1',
    });
  });

  it.each([
    ['fail/other nonce', { nonce: Buffer.alloc(16, 6).toString('base64url') }, 'wrong-nonce'],
    ['fail/older than the floor', { floor: new Date(time.getTime() + 1) }, 'before-floor'],
    ['fail/other kid', { kid: 'time-2' }, 'wrong-kid'],
    ['fail/other key', { publicKeySpki: testKey('device-P-256').spki }, 'bad-signature'],
  ])('%s', async (_name, change, reason) => {
    const jws = await signTimeStatement({ nonce, time }, signer);
    expect(verifyTimeStatement(jws, { publicKeySpki: key.spki, nonce, ...change })).toMatchObject({
      ok: false,
      reason,
    });
  });

  it('fail/payload that is not a time statement', async () => {
    const jws = await signJws(
      { v: 1, nonce, time: 'yesterday' },
      { kid: 'time-1', typ: TIME_JWS_TYPE, signer },
    );
    expect(verifyTimeStatement(jws, { publicKeySpki: key.spki, nonce })).toMatchObject({
      ok: false,
      reason: 'bad-payload',
    });
  });

  it.each([
    ['fail/nonce too short', Buffer.alloc(8).toString('base64url')],
    ['fail/nonce too long', Buffer.alloc(65).toString('base64url')],
    ['fail/nonce not base64url', 'a+b/c=d+e/f=g+h/i=j+k/l='],
  ])('%s refused by the signer', async (_name, n) => {
    await expect(signTimeStatement({ nonce: n, time }, signer)).rejects.toThrow(/nonce/);
  });
});
