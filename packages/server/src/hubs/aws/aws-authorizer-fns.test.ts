import { describe, expect, it } from 'vitest';
import {
  authorizerDrift,
  authorizerNameOf,
  LAMBDA_ARN_PATTERN,
  mqttUsername,
  regionOfFunction,
  signingKeyNameOf,
  statementIdOf,
  wantedAuthorizer,
} from './aws-authorizer-fns.js';

const FN = 'arn:aws:lambda:eu-west-1:123456789012:function:auth';
const HUB = '0b6f1c1e-7d2a-4d1b-9a43-6f0a2b1c3d4e';

describe('AWS IoT custom authorizer settings', () => {
  it('ok/off, or on without a function, asks for nothing', () => {
    expect(wantedAuthorizer(HUB, { customAuthentication: false, customAuthorizerName: null })).toBe(
      undefined,
    );
    expect(
      wantedAuthorizer(HUB, {
        customAuthentication: false,
        customAuthorizerName: null,
        customAuthorizerFunctionArn: FN,
      }),
    ).toBe(undefined);
  });

  it('ok/on: named after the hub unless named, with the documented defaults', () => {
    expect(
      wantedAuthorizer(HUB, {
        customAuthentication: true,
        customAuthorizerName: null,
        customAuthorizerFunctionArn: FN,
      }),
    ).toEqual({
      name: `trustlink-${HUB}`,
      functionArn: FN,
      tokenKeyName: 'x-trustlink-token',
      asDefault: false,
      grantInvoke: true,
      tokenMinutes: 60,
    });
    expect(authorizerNameOf(HUB, { customAuthorizerName: 'fleet-auth' })).toBe('fleet-auth');
  });

  it('ok/Lambda ARNs: region read from the ARN; other ARNs refused', () => {
    expect(regionOfFunction(FN)).toBe('eu-west-1');
    expect(regionOfFunction(`${FN}:live`)).toBe('eu-west-1');
    expect(LAMBDA_ARN_PATTERN.test('arn:aws:iam::123456789012:role/x')).toBe(false);
    expect(LAMBDA_ARN_PATTERN.test('arn:aws:lambda:eu-west-1:12345:function:auth')).toBe(false);
  });

  it('ok/names fit AWS patterns whatever the input', () => {
    expect(statementIdOf('a=b,c@d')).toMatch(/^[a-zA-Z0-9_-]{1,100}$/);
    expect(statementIdOf('x'.repeat(200))).toHaveLength(100);
    expect(signingKeyNameOf('key/1.2')).toMatch(/^[a-zA-Z0-9:_-]+$/);
  });

  it('ok/drift: each difference named; line breaks in a PEM are no difference', () => {
    const want = wantedAuthorizer(HUB, {
      customAuthentication: true,
      customAuthorizerName: null,
      customAuthorizerFunctionArn: FN,
    })!;
    const pem = '-----BEGIN PUBLIC KEY-----\nAAAA\nBBBB\n-----END PUBLIC KEY-----\n';
    const same = {
      authorizerFunctionArn: FN,
      tokenKeyName: 'x-trustlink-token',
      status: 'ACTIVE',
      tokenSigningPublicKeys: { k: pem.replace(/\n/g, '\r\n') },
    };
    expect(authorizerDrift(same, want, { k: pem })).toEqual([]);
    expect(
      authorizerDrift({ ...same, authorizerFunctionArn: `${FN}2`, status: 'INACTIVE' }, want, {
        k: pem,
      }),
    ).toEqual(['function', 'status']);
    expect(authorizerDrift(same, want, { k2: pem })).toEqual(['signing keys']);
    expect(authorizerDrift(same, want, { k: pem, k2: pem })).toEqual(['signing keys']);
  });

  it('ok/the MQTT user name carries the values URL-encoded', () => {
    const u = mqttUsername({
      deviceId: 'dev',
      authorizerName: 'a',
      tokenKeyName: 'tok',
      token: 'x.y.z',
      signature: 'ab+/=',
    });
    expect(u).toBe(
      'dev?x-amz-customauthorizer-name=a&tok=x.y.z&x-amz-customauthorizer-signature=ab%2B%2F%3D',
    );
  });
});
