import { describe, expect, it } from 'vitest';
import {
  awsCertificateId,
  checkPolicyTemplate,
  DEFAULT_AWS_POLICY,
  policyNameOf,
  renderPolicy,
} from './aws-iot-fns.js';

describe('AWS IoT policy templates', () => {
  it('ok/the default scopes connect and topics to the device', () => {
    expect(checkPolicyTemplate(DEFAULT_AWS_POLICY)).toEqual([]);
    const doc = JSON.parse(renderPolicy(DEFAULT_AWS_POLICY, 'dev-1'));
    const resources = doc.Statement.map((s: { Resource: string }) => s.Resource);
    expect(resources).toEqual([
      'arn:aws:iot:*:*:client/dev-1',
      'arn:aws:iot:*:*:topic/devices/dev-1/*',
      'arn:aws:iot:*:*:topicfilter/devices/dev-1/*',
    ]);
    expect(JSON.stringify(doc)).not.toContain('{{');
  });

  it('err/a template that is not a policy is refused with the reason', () => {
    expect(checkPolicyTemplate('{')).toEqual(['must be a JSON policy document']);
    expect(checkPolicyTemplate('{"Statement":[]}')).toEqual(['must hold a Statement list']);
    expect(checkPolicyTemplate('{"Statement":[{"Effect":"Maybe"}]}')).toEqual([
      'statement 1: Effect must be Allow or Deny',
      'statement 1: Action is required',
      'statement 1: Resource is required',
    ]);
  });

  it('ok/names and ids', () => {
    expect(policyNameOf('abc-1')).toBe('trustlink-abc-1');
    expect(awsCertificateId(Buffer.from('x'))).toBe(
      '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881',
    );
  });
});
