import { describe, expect, it } from 'vitest';
import { type z } from 'zod';
import { certificateResponseSchema, renewRequestSchema } from './certificate-messages.js';
import { challengeRequestSchema, challengeResponseSchema } from './challenge-messages.js';
import {
  databaseTokenRequestSchema,
  databaseTokenResponseSchema,
} from './database-token-messages.js';
import { enrolRequestSchema, enrolResponseSchema } from './enrol-messages.js';
import { sessionRequestSchema, sessionResponseSchema } from './session-messages.js';
import { statusRequestHeadersSchema, statusResponseSchema } from './status-messages.js';
import { timeRequestSchema, timeResponseSchema } from './time-messages.js';
import {
  manifestResponseSchema,
  updateParamsSchema,
  updateReportSchema,
} from './update-messages.js';

const der = 'MIIBCjCBsQIBADBPMQswCQYDVQQGEwJERTEP';
const at = '2026-03-01T12:00:00.000Z';
const id = '3f2b8c1e-6a4d-4e59-9b0a-2c7d1e5f8a90';
const deviceId = 'e'.repeat(64);
const jws = 'eyJhbGciOiJFUzI1NiJ9.e30.c2ln';
const database = {
  connectionId: id,
  type: 'mongodb-atlas',
  url: 'https://data.example.com/app/x',
  database: 'fleet',
  caCertificates: [der],
};
const hub = {
  type: 'mqtt',
  endpoint: 'mqtt.example.com',
  port: 8883,
  clientId: deviceId,
  topics: { publish: [`devices/${deviceId}/#`], subscribe: [`devices/${deviceId}/#`] },
  caCertificates: [der],
  extra: {},
};
const enrolled = {
  instanceId: id,
  deviceId,
  batchId: id,
  certificate: der,
  chain: [der],
  trustAnchors: [der],
  renewAt: at,
  hub,
  signing: { keyId: id, alg: 'ES256', publicKey: der },
  database,
};

type Case = [name: string, schema: z.ZodType, value: unknown];
const cases: Case[] = [
  ['ok/challenge request', challengeRequestSchema, {}],
  ['ok/challenge response', challengeResponseSchema, { nonce: 'AaCh-_', expiresAt: at }],
  ['ok/enrol request with CSR only', enrolRequestSchema, { csr: der }],
  [
    'ok/enrol request with token and factory chain',
    enrolRequestSchema,
    { csr: der, token: 'a'.repeat(22), factoryChain: [der] },
  ],
  ['ok/enrol response, all blocks', enrolResponseSchema, enrolled],
  [
    'ok/enrol response without hub, signing, database',
    enrolResponseSchema,
    { ...enrolled, hub: undefined, signing: undefined, database: undefined },
  ],
  ['ok/session request', sessionRequestSchema, {}],
  ['ok/session response', sessionResponseSchema, { token: 'tok_'.padEnd(32, 'x'), expiresAt: at }],
  [
    'ok/status headers',
    statusRequestHeadersSchema,
    { 'if-none-match': '"abc"', 'x-firmware-digest': 'f'.repeat(64), host: 'x' },
  ],
  [
    'ok/status response',
    statusResponseSchema,
    {
      state: 'enrolled',
      certificate: { serial: '0a1b', notAfter: at, renewAt: at },
      pollAfter: 3600,
    },
  ],
  [
    'ok/status response with update',
    statusResponseSchema,
    {
      state: 'renewed',
      certificate: { serial: '0a1b', notAfter: at, renewAt: at },
      update: { id, manifestUrl: `/device/v1/updates/${id}/manifest` },
      pollAfter: 60,
    },
  ],
  ['ok/renew request', renewRequestSchema, { csr: der }],
  [
    'ok/certificate response',
    certificateResponseSchema,
    { certificate: der, chain: [], notAfter: at, renewAt: at },
  ],
  ['ok/update params', updateParamsSchema, { id }],
  ['ok/manifest body', manifestResponseSchema, jws],
  ['ok/update report', updateReportSchema, { status: 'failed', detail: 'rollback', at }],
  ['ok/database token request', databaseTokenRequestSchema, {}],
  [
    'ok/database token response',
    databaseTokenResponseSchema,
    { token: jws, expiresAt: at, connection: database },
  ],
  ['ok/time request', timeRequestSchema, { nonce: 'A'.repeat(22) }],
  ['ok/time response', timeResponseSchema, { statement: jws, chain: [der] }],

  ['fail/challenge request with fields', challengeRequestSchema, { x: 1 }],
  ['fail/enrol request without CSR', enrolRequestSchema, {}],
  ['fail/enrol request with padded CSR', enrolRequestSchema, { csr: `${der}==` }],
  ['fail/enrol request with non-canonical base64url', enrolRequestSchema, { csr: 'AB' }],
  ['fail/enrol request with proof in the body', enrolRequestSchema, { csr: der, proof: 'x' }],
  ['fail/enrol request with a short token', enrolRequestSchema, { csr: der, token: 'short' }],
  [
    'fail/enrol response with upper-case device ID',
    enrolResponseSchema,
    { ...enrolled, deviceId: 'E'.repeat(64) },
  ],
  [
    'fail/enrol response without trust anchor',
    enrolResponseSchema,
    { ...enrolled, trustAnchors: [] },
  ],
  [
    'fail/enrol response with unknown hub type',
    enrolResponseSchema,
    { ...enrolled, hub: { ...hub, type: 'kafka' } },
  ],
  [
    'fail/enrol response with port 0',
    enrolResponseSchema,
    { ...enrolled, hub: { ...hub, port: 0 } },
  ],
  [
    'fail/enrol response with RS256 signing key',
    enrolResponseSchema,
    { ...enrolled, signing: { keyId: id, alg: 'RS256', publicKey: der } },
  ],
  [
    'fail/enrol response with local time',
    enrolResponseSchema,
    { ...enrolled, renewAt: '2026-03-01T12:00:00' },
  ],
  ['fail/session request with certificate in the body', sessionRequestSchema, { certificate: der }],
  [
    'fail/session token with spaces',
    sessionResponseSchema,
    { token: 'a b'.repeat(8), expiresAt: at },
  ],
  [
    'fail/status digest in upper case',
    statusRequestHeadersSchema,
    { 'x-firmware-digest': 'F'.repeat(64) },
  ],
  [
    'fail/status state revoked',
    statusResponseSchema,
    { state: 'revoked', certificate: { serial: '0a', notAfter: at, renewAt: at }, pollAfter: 60 },
  ],
  [
    'fail/status poll after 0',
    statusResponseSchema,
    { state: 'enrolled', certificate: { serial: '0a', notAfter: at, renewAt: at }, pollAfter: 0 },
  ],
  [
    'fail/status manifest URL elsewhere',
    statusResponseSchema,
    {
      state: 'enrolled',
      certificate: { serial: '0a', notAfter: at, renewAt: at },
      update: { id, manifestUrl: 'https://evil.example.com/m' },
      pollAfter: 60,
    },
  ],
  ['fail/update params with slash', updateParamsSchema, { id: 'a/b' }],
  ['fail/manifest body with two parts', manifestResponseSchema, 'a.b'],
  ['fail/update report unknown status', updateReportSchema, { status: 'pending', at }],
  [
    'fail/update report detail too long',
    updateReportSchema,
    { status: 'failed', detail: 'x'.repeat(1025), at },
  ],
  [
    'fail/database connection without URL',
    databaseTokenResponseSchema,
    { token: jws, expiresAt: at, connection: { ...database, url: 'not a url' } },
  ],
  ['fail/time request nonce too short', timeRequestSchema, { nonce: 'A'.repeat(21) }],
  ['fail/time response without chain', timeResponseSchema, { statement: jws, chain: [] }],
];

describe('device API messages', () => {
  it.each(cases)('%s', (name, schema, value) => {
    expect(schema.safeParse(value).success).toBe(name.startsWith('ok/'));
  });
});
