import { describe, expect, it } from 'vitest';
import {
  hookEnvironment,
  parseContentRange,
  reportDetail,
  responsePlan,
  resumeHeaders,
} from './update-fns.js';

describe('parseContentRange', () => {
  it('ok/a byte range', () => {
    expect(parseContentRange('bytes 100-199/200')).toEqual({ start: 100, end: 199, total: 200 });
  });
  it.each([null, '', 'bytes */200', 'bytes 10-5/200', 'bytes 0-200/200', 'items 0-1/2'])(
    'fail/%s',
    (h) => expect(parseContentRange(h)).toBeNull(),
  );
});

describe('resumeHeaders', () => {
  it('ok/range and If-Range after some bytes', () => {
    expect(resumeHeaders(10, '"ab"')).toEqual({ range: 'bytes=10-', 'if-range': '"ab"' });
  });
  it('ok/nothing when starting, or without an ETag to make it safe', () => {
    expect(resumeHeaders(0, '"ab"')).toEqual({});
    expect(resumeHeaders(10, undefined)).toEqual({});
  });
});

describe('responsePlan', () => {
  it('ok/206 at the right offset appends; 200 restarts', () => {
    expect(responsePlan(206, 'bytes 10-99/100', 10, 100)).toEqual({ action: 'append' });
    expect(responsePlan(200, null, 10, 100)).toEqual({ action: 'restart' });
  });
  it('fail/a range elsewhere, of another size, or an error status', () => {
    expect(responsePlan(206, 'bytes 0-99/100', 10, 100)).toMatchObject({ action: 'refuse' });
    expect(responsePlan(206, 'bytes 10-99/101', 10, 100)).toMatchObject({
      action: 'refuse',
      reason: 'image has 101 bytes, manifest says 100',
    });
    expect(responsePlan(206, null, 10, 100)).toMatchObject({ action: 'refuse' });
    expect(responsePlan(404, null, 0, 100)).toMatchObject({
      action: 'refuse',
      reason: 'image request answered 404',
    });
  });
});

describe('hookEnvironment and reportDetail', () => {
  it('ok/every fact a hook needs', () => {
    const env = hookEnvironment(
      'install',
      { id: 'u1', imageFile: '/s/u1.img', manifestFile: '/s/m.json', manifestJwsFile: '/s/m.jws' },
      {
        firmwareId: 'f1',
        name: 'gw',
        version: '2.0',
        securityVersion: 4,
        size: 10,
        sha256: 'a'.repeat(64),
        format: 'raw',
      },
      '/s',
    );
    expect(env).toMatchObject({
      TRUSTLINK_UPDATE_STEP: 'install',
      TRUSTLINK_UPDATE_IMAGE: '/s/u1.img',
      TRUSTLINK_UPDATE_SECURITY_VERSION: '4',
      TRUSTLINK_UPDATE_SIZE: '10',
    });
  });
  it('ok/details are one line and at most 1024 characters, keeping the end', () => {
    expect(reportDetail('a\n  b')).toBe('a b');
    const long = reportDetail('x'.repeat(2000) + 'END');
    expect(long).toHaveLength(1024);
    expect(long.endsWith('END')).toBe(true);
  });
});
