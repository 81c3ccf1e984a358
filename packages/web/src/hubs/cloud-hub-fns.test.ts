import { describe, expect, it } from 'vitest';
import {
  SECRETS_SET,
  awsProblems,
  awsSettings,
  centralProblems,
  centralSettings,
  formatPolicyDocument,
  httpsUrlProblem,
  idScopeProblem,
  iotHubProblems,
  iotHubSettings,
  policyDocumentProblem,
  regionProblem,
  roleArnProblem,
  secretMissing,
  secretsSetOf,
  sortCloudObjects,
  textSettings,
} from './cloud-hub-fns';
import { checkOutcome, hubTile, secretsToSend, settingsFieldErrors } from './hub-fns';
import type { Hub } from './hub-types';

const PEM = `-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----`;

/** The server's default policy template (docs/cloud-hubs.md), as /hubs/defaults gives it. */
const POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: 'iot:Connect',
      Resource: 'arn:aws:iot:*:*:client/{{deviceId}}',
    },
  ],
});

const awsHub: Hub = {
  id: 'h1',
  name: 'Fleet on AWS',
  type: 'aws-iot-core',
  settings: {
    region: 'eu-west-1',
    endpoint: 'a1b2-ats.iot.eu-west-1.amazonaws.com',
    port: 8883,
    accessKeyId: '********',
    secretAccessKey: '********',
    registration: 'per-device',
    rootCertificate: PEM,
    apiEndpoint: null,
  },
  secrets: { accessKeyId: { set: true }, secretAccessKey: { set: false } },
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
};

const goodAws = {
  region: 'eu-west-1',
  endpoint: 'a1b2-ats.iot.eu-west-1.amazonaws.com',
  port: 8883,
  accessKeyId: 'AKIAEXAMPLE',
  secretAccessKey: 'secret',
  registration: 'per-device',
  policyDocument: POLICY,
  rootCertificate: PEM,
  apiEndpoint: '',
  apiCaCertificate: '',
  [SECRETS_SET]: [],
};

describe('cloud hub settings, as the server checks them', () => {
  it.each([
    ['ok/region', 'eu-west-1', undefined],
    ['ok/gov region', 'us-gov-west-1', undefined],
    ['fail/region with capitals', 'EU-West-1', 'must be an AWS region (eu-west-1)'],
    ['fail/region without number', 'eu-west', 'must be an AWS region (eu-west-1)'],
  ])('%s', (_n, v, want) => expect(regionProblem(v)).toBe(want));

  it('ok/role ARNs, ID scopes and https URLs', () => {
    expect(roleArnProblem('arn:aws:iam::123456789012:role/jitp')).toBeUndefined();
    expect(roleArnProblem('arn:aws:iam::1234:role/jitp')).toBe('must be an IAM role ARN');
    expect(roleArnProblem('arn:aws:iot::123456789012:role/jitp')).toBe('must be an IAM role ARN');
    expect(idScopeProblem('0ne00A1B2C3')).toBeUndefined();
    expect(idScopeProblem('0ne00a1b2c3')).toMatch(/ID scope/);
    expect(httpsUrlProblem('https://127.0.0.1:9443')).toBeUndefined();
    expect(httpsUrlProblem('http://iot.example.com')).toBe('must be an https:// URL');
    expect(httpsUrlProblem('iot.example.com')).toBe('must be a URL');
  });

  it('ok/policy template: JSON with statements; each statement is the server’s to judge', () => {
    expect(policyDocumentProblem(POLICY)).toBeUndefined();
    // Outside a string the placeholder leaves no JSON, on the server as here.
    expect(policyDocumentProblem('{"Statement":[{"Resource":{{deviceId}}}]}')).toMatch(/JSON/);
    expect(policyDocumentProblem('{"Statement": [')).toMatch(/^must be a JSON policy document/);
    expect(policyDocumentProblem('{"Statement": []}')).toBe('must hold a Statement list');
    expect(policyDocumentProblem('null')).toBe('must hold a Statement list');
    // A statement without Effect passes here: the server names it (shown beside the field).
    expect(policyDocumentProblem('{"Statement":[{"Action":"iot:*"}]}')).toBeUndefined();
    expect(formatPolicyDocument('{"a":[1]}')).toBe('{\n  "a": [\n    1\n  ]\n}');
    expect(formatPolicyDocument('{bad')).toBe('{bad');
  });

  it('ok/AWS: good settings pass and are sent with defaults left to the server', () => {
    expect(awsProblems(goodAws)).toEqual({});
    expect(awsSettings({ ...goodAws, policyDocument: ' ', rootCertificate: '' })).toEqual({
      region: 'eu-west-1',
      endpoint: 'a1b2-ats.iot.eu-west-1.amazonaws.com',
      port: 8883,
      registration: 'per-device',
      jitpRoleArn: null,
      customAuthentication: false,
      customAuthorizerName: null,
      apiEndpoint: null,
      apiCaCertificate: null,
    });
    // Secrets never travel in the settings; they are added only when typed.
    expect(awsSettings(goodAws)).not.toHaveProperty('secretAccessKey');
    expect(secretsToSend(goodAws as never, ['accessKeyId', 'secretAccessKey'])).toEqual({
      accessKeyId: 'AKIAEXAMPLE',
      secretAccessKey: 'secret',
    });
  });

  it('ok/AWS: the JITP role goes only with CA registration', () => {
    const ca = { ...goodAws, registration: 'ca', jitpRoleArn: 'arn:aws:iam::123456789012:role/j' };
    expect(awsSettings(ca)).toMatchObject({ registration: 'ca', jitpRoleArn: ca.jitpRoleArn });
    expect(awsSettings({ ...ca, registration: 'per-device' }).jitpRoleArn).toBeNull();
    expect(awsProblems({ ...ca, jitpRoleArn: 'role/j' })).toEqual({
      jitpRoleArn: 'JITP role must be an IAM role ARN.',
    });
  });

  it('fail/AWS: every bad field named, secrets required only when none is stored', () => {
    expect(
      awsProblems({
        region: 'Ireland',
        endpoint: 'https://iot',
        port: 0,
        accessKeyId: '',
        secretAccessKey: '',
        policyDocument: '{',
        rootCertificate: 'not a pem',
        apiEndpoint: 'http://x',
        apiCaCertificate: '-----BEGIN PRIVATE KEY-----',
        [SECRETS_SET]: ['accessKeyId'],
      }),
    ).toEqual({
      region: 'Region must be an AWS region (eu-west-1).',
      secretAccessKey: 'Secret access key is required.',
      endpoint: 'Endpoint must be a host name or an IP address (no scheme, port or path).',
      port: 'Port must be a port from 1 to 65535.',
      policyDocument: expect.stringMatching(/^Policy document must be a JSON policy document/),
      rootCertificate: 'Root certificate must hold PEM certificates.',
      apiEndpoint: 'API endpoint must be an https:// URL.',
      apiCaCertificate: 'API CA certificate must not hold a private key.',
    });
  });

  it('ok/Azure IoT Hub and IoT Central', () => {
    const hub = {
      hostName: 'my-hub.azure-devices.net',
      sharedAccessPolicyName: 'registryReadWrite',
      sharedAccessKey: 'a2V5',
      authentication: 'thumbprint',
      rootCertificate: '',
      apiEndpoint: '',
      apiCaCertificate: '',
    };
    expect(iotHubProblems(hub)).toEqual({});
    expect(iotHubSettings({ ...hub, authentication: 'ca' })).toEqual({
      hostName: 'my-hub.azure-devices.net',
      sharedAccessPolicyName: 'registryReadWrite',
      authentication: 'ca',
      apiEndpoint: null,
      apiCaCertificate: null,
    });
    expect(
      iotHubProblems({
        ...hub,
        hostName: 'my-hub/x',
        sharedAccessPolicyName: ' ',
        sharedAccessKey: '',
      }),
    ).toEqual({
      hostName: 'Host name must be a host name or an IP address (no scheme, port or path).',
      sharedAccessPolicyName: 'Shared access policy name is required.',
      sharedAccessKey: 'Shared access key is required.',
    });
    const central = {
      appUrl: 'https://app.azureiotcentral.com',
      apiToken: 'SharedAccessSignature sr=x',
      idScope: '',
    };
    expect(centralProblems(central)).toEqual({});
    expect(centralSettings(central)).toEqual({
      appUrl: 'https://app.azureiotcentral.com',
      idScope: null,
      apiCaCertificate: null,
    });
    expect(centralProblems({ appUrl: 'http://app', apiToken: '', idScope: 'scope' })).toEqual({
      appUrl: 'Application URL must be an https:// URL.',
      apiToken: 'API token is required.',
      idScope: 'ID scope must be an ID scope (0ne followed by 8 hex digits).',
    });
  });

  it('ok/an edited hub: stored secrets kept, obscured values never taken into the form', () => {
    expect(secretsSetOf(awsHub)).toEqual(['accessKeyId']);
    const values = {
      ...textSettings(awsHub, ['region', 'accessKeyId']),
      [SECRETS_SET]: ['accessKeyId'],
    };
    // Secret fields are not text settings of the form: the obscured mark stays out.
    expect(textSettings(awsHub, ['region', 'apiEndpoint'])).toEqual({
      region: 'eu-west-1',
      apiEndpoint: '',
    });
    expect(secretMissing(values, 'secretAccessKey')).toBe(true);
    expect(secretMissing({ ...values, accessKeyId: '' }, 'accessKeyId')).toBe(false);
    expect(
      secretsToSend({ accessKeyId: '********', secretAccessKey: '' }, [
        'accessKeyId',
        'secretAccessKey',
      ]),
    ).toEqual({});
  });
});

describe('cloud hub status and objects', () => {
  it('ok/credentials rejected is told apart from unreachable', () => {
    expect(checkOutcome({ ok: true, detail: 'AWS IoT API accepts the key' })).toBe('reachable');
    expect(
      checkOutcome({ ok: false, detail: 'credentials rejected: UnrecognizedClientException' }),
    ).toBe('credentials rejected');
    expect(checkOutcome({ ok: false, detail: 'connect ECONNREFUSED 127.0.0.1:1' })).toBe(
      'unreachable',
    );
    const tile = hubTile({
      reachable: 1,
      total: 3,
      hubs: [
        { id: '1', name: 'AWS', type: 'aws-iot-core', ok: true, detail: 'accepts', checkedAt: '' },
        {
          id: '2',
          name: 'Azure',
          type: 'azure-iot-hub',
          ok: false,
          detail: 'credentials rejected: IotHubUnauthorizedAccess',
          checkedAt: '',
        },
        {
          id: '3',
          name: 'Central',
          type: 'azure-iot-central',
          ok: false,
          detail: 'ETIMEDOUT',
          checkedAt: '',
        },
      ],
    });
    expect(tile.colour).toBe('orange');
    expect(tile.detail).toBe(
      '1 of 3 hubs answer their check. 1 cloud hub refuses the credentials. AWS: answers (accepts); Azure: credentials rejected (IotHubUnauthorizedAccess); Central: fails (ETIMEDOUT).',
    );
  });

  it('ok/every statement the server refuses shows beside the policy field', () => {
    expect(
      settingsFieldErrors(
        [
          {
            path: 'body.settings.policyDocument',
            message: 'statement 1: Effect must be Allow or Deny',
          },
          { path: 'body.settings.policyDocument', message: 'statement 2: Resource is required' },
          { path: 'body.settings.policyDocument', message: 'statement 2: Resource is required' },
        ],
        ['policyDocument'],
      ).byField,
    ).toEqual({
      policyDocument:
        'statement 1: Effect must be Allow or Deny; statement 2: Resource is required',
    });
  });

  it('ok/objects in reading order: thing, policy, certificates newest first', () => {
    const o = (kind: string, updatedAt: string) => ({
      kind,
      localId: kind,
      remoteId: `arn:${kind}`,
      state: 'active',
      updatedAt,
    });
    expect(
      sortCloudObjects([
        o('certificate', '2026-01-01'),
        o('certificate', '2026-02-01'),
        o('unknown', '2026-03-01'),
        o('policy', '2026-01-01'),
        o('thing', '2026-01-01'),
      ]).map((x) => `${x.kind}@${x.updatedAt}`),
    ).toEqual([
      'thing@2026-01-01',
      'policy@2026-01-01',
      'certificate@2026-02-01',
      'certificate@2026-01-01',
      'unknown@2026-03-01',
    ]);
  });
});
