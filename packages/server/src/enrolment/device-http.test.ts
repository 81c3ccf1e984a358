import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { ownHostNames, proofHost } from './device-http.js';

const own = ownHostNames('Devices.Example.com', 'alt.example.com, 10.0.0.5, fd00::1');
const req = (host: string | undefined) => ({ headers: { host } }) as unknown as FastifyRequest;

describe('the host a proof is bound to', () => {
  it.each([
    ['ok/public name, any case, with port', 'devices.example.COM:8444', 'devices.example.com'],
    ['ok/extra name', 'alt.example.com', 'alt.example.com'],
    ['ok/IPv4 literal', '10.0.0.5:8444', '10.0.0.5'],
    ['ok/loopback', '127.0.0.1:1234', '127.0.0.1'],
    ['ok/IPv6 literal in brackets', '[FD00::1]:8444', '[fd00::1]'],
    ['ok/IPv6 loopback', '[::1]:8444', '[::1]'],
    ['fail/another server', 'evil.example.com', undefined],
    ['fail/a suffix trick', 'devices.example.com.evil.example.com', undefined],
    ['fail/no Host', undefined, undefined],
    ['fail/garbage', 'a:b:c', undefined],
  ])('%s', (_n, host, expected) => {
    expect(proofHost(req(host), own)).toBe(expected);
  });
});
