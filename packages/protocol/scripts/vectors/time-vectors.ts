/** Signed-time vectors: statements that must verify, and refusals. */
import { nodeKeySigner } from '../../src/identity/signatures.js';
import { signTimeStatement } from '../../src/time/time-statement.js';
import { type StoredKey, privateKeyOf } from './vector-keys.js';

export async function timeVectors(keys: Record<string, StoredKey>) {
  const nonce = Buffer.from('00112233445566778899aabbccddeeff', 'hex').toString('base64url');
  const time = '2026-03-01T12:00:00.000Z';
  const signer = { ...nodeKeySigner(privateKeyOf(keys['signing-P-256']!)), kid: 'time-key' };
  const rsa = { ...nodeKeySigner(privateKeyOf(keys['signing-RSA-3072']!)), kid: 'time-key' };
  const statement = await signTimeStatement({ nonce, time: new Date(time) }, signer);
  return {
    description:
      'Signed time: JWS typ trustlink-time+jws over { v: 1, nonce, time }. Verify with the SPKI of `key`, the device `nonce` and optional `floor`; result is "ok" (then time must equal `time`) or the reason.',
    keys: { 'signing-P-256': keys['signing-P-256'], 'signing-RSA-3072': keys['signing-RSA-3072'] },
    nonce,
    time,
    cases: [
      { name: 'ok/ES256', key: 'signing-P-256', statement, result: 'ok' },
      {
        name: 'ok/PS256',
        key: 'signing-RSA-3072',
        statement: await signTimeStatement({ nonce, time: new Date(time) }, rsa),
        result: 'ok',
      },
      { name: 'ok/at the floor', key: 'signing-P-256', statement, floor: time, result: 'ok' },
      {
        name: 'fail/before the floor',
        key: 'signing-P-256',
        statement,
        floor: '2026-03-01T12:00:00.001Z',
        result: 'before-floor',
      },
      {
        name: 'fail/other nonce',
        key: 'signing-P-256',
        statement,
        nonce: 'AAAAAAAAAAAAAAAAAAAAAA',
        result: 'wrong-nonce',
      },
      { name: 'fail/other key', key: 'signing-RSA-3072', statement, result: 'alg-mismatch' },
    ],
  };
}
