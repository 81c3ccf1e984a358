import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type ProofFields,
  ProofInputError,
  buildProofInput,
  normaliseProofHost,
} from './proof-input.js';

const fields: ProofFields = {
  purpose: 'enrol',
  host: 'devices.example.com',
  method: 'POST',
  path: '/device/v1/enrol',
  nonce: 'bm9uY2U',
  body: Buffer.from('{}'),
};

function field(text: string | Buffer): Buffer {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'ascii') : text;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

describe('buildProofInput', () => {
  it('ok/length-prefixed fields in order', () => {
    const expected = Buffer.concat([
      field('trustlink-proof-v1'),
      field('enrol'),
      field('devices.example.com'),
      field('POST'),
      field('/device/v1/enrol'),
      field('bm9uY2U'),
      field(createHash('sha256').update('{}').digest()),
    ]);
    expect(buildProofInput(fields)).toEqual(expected);
  });

  it('ok/host compared in lower case', () => {
    expect(buildProofInput({ ...fields, host: 'Devices.EXAMPLE.com' })).toEqual(
      buildProofInput(fields),
    );
  });

  it('ok/every field changes the input', () => {
    const base = buildProofInput(fields).toString('hex');
    const changed: Partial<ProofFields>[] = [
      { purpose: 'session' },
      { host: 'devices.example.org' },
      { method: 'PUT' },
      { path: '/device/v1/enrol?x=1' },
      { nonce: 'bm9uY2F' },
      { body: Buffer.from('{} ') },
    ];
    for (const c of changed)
      expect(buildProofInput({ ...fields, ...c }).toString('hex')).not.toBe(base);
  });

  it('ok/IP literals', () => {
    expect(normaliseProofHost('192.0.2.1')).toBe('192.0.2.1');
    expect(normaliseProofHost('[2001:DB8::1]')).toBe('[2001:db8::1]');
  });

  it.each([
    ['fail/unknown purpose', { purpose: 'login' }, /purpose/],
    ['fail/host with port', { host: 'devices.example.com:8444' }, /host/],
    ['fail/host with trailing dot', { host: 'devices.example.com.' }, /host/],
    ['fail/host with space', { host: 'devices example.com' }, /host/],
    ['fail/empty host', { host: '' }, /host/],
    ['fail/label over 63 characters', { host: `${'a'.repeat(64)}.example.com` }, /host/],
    ['fail/lower-case method', { method: 'post' }, /method/],
    ['fail/relative path', { path: 'device/v1/enrol' }, /path/],
    ['fail/path with space', { path: '/device/v1/en rol' }, /path/],
    ['fail/path with non-ASCII', { path: '/device/v1/énrol' }, /path/],
    ['fail/nonce with padding', { nonce: 'bm9uY2U=' }, /nonce/],
    ['fail/empty nonce', { nonce: '' }, /nonce/],
  ])('%s', (_name, change, message) => {
    const build = () => buildProofInput({ ...fields, ...change } as ProofFields);
    expect(build).toThrow(ProofInputError);
    expect(build).toThrow(message);
  });
});
