import {
  Button,
  Checkbox,
  Group,
  NumberInput,
  Radio,
  Stack,
  Text,
  Textarea,
  TextInput,
} from '@mantine/core';
import { useApiQuery } from '../api/use-api-query';
import { ApiEndpointFields, PemField, usePrefill } from './cloud-hub-fields';
import {
  SECRETS_SET,
  awsProblems,
  awsSettings,
  formatPolicyDocument,
  policyDocumentProblem,
  secretsSetOf,
  textOf,
  textSettings,
  type CloudDefaults,
} from './cloud-hub-fns';
import type { HubFieldsProps, HubFormEntry } from './hub-form-registry';
import { SecretInput } from './secret-input';

const TEXT_FIELDS = [
  'region',
  'endpoint',
  'jitpRoleArn',
  'customAuthorizerName',
  'policyDocument',
  'rootCertificate',
  'apiEndpoint',
  'apiCaCertificate',
];

function PolicyDocumentField({ values, errors, set, hub }: HubFieldsProps) {
  // The server's template, for "Reset to the default" (also on a hub being edited).
  const { data } = useApiQuery<CloudDefaults>('/hubs/defaults');
  const doc = String(values.policyDocument ?? '');
  return (
    <Stack gap={4}>
      <Textarea
        label="IoT policy document"
        description="The AWS IoT policy each device gets, as JSON; {{deviceId}} stands for the device ID. Every statement needs Effect (Allow or Deny), Action and Resource."
        autosize
        minRows={6}
        maxRows={18}
        spellCheck={false}
        styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)', fontSize: 12 } }}
        value={doc}
        error={errors.policyDocument}
        onChange={(e) => set('policyDocument', e.currentTarget.value)}
      />
      <Group gap="xs">
        <Button
          variant="default"
          size="xs"
          disabled={!!policyDocumentProblem(doc)}
          onClick={() => set('policyDocument', formatPolicyDocument(doc))}
        >
          Format JSON
        </Button>
        <Button
          variant="default"
          size="xs"
          disabled={!data}
          onClick={() => data && set('policyDocument', data['aws-iot-core'].policyDocument)}
        >
          Reset to the default policy
        </Button>
        {hub && (
          <Text size="xs" c="dimmed">
            A change applies to devices synced from now on.
          </Text>
        )}
      </Group>
    </Stack>
  );
}

function AwsFields(props: HubFieldsProps) {
  const { values, errors, set } = props;
  usePrefill('aws-iot-core', props);
  const text = (f: string) => String(values[f] ?? '');
  const region = textOf(values.region) || '<region>';
  return (
    <Stack>
      <TextInput
        label="Region"
        description="The AWS region of the IoT Core account."
        placeholder="eu-west-1"
        required
        value={text('region')}
        error={errors.region}
        onChange={(e) => set('region', e.currentTarget.value)}
      />
      <Group grow align="flex-start">
        <SecretInput
          {...props}
          field="accessKeyId"
          label="Access key ID"
          description="Of the IAM user whose policy allows the IoT calls (docs/cloud-hubs.md)."
        />
        <SecretInput
          {...props}
          field="secretAccessKey"
          label="Secret access key"
          description="Stored encrypted; never shown again."
        />
      </Group>
      <Group grow align="flex-start">
        <TextInput
          label="Device data endpoint"
          description="IoT Core > Settings: the account's device data endpoint, where devices connect."
          placeholder="a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com"
          required
          value={text('endpoint')}
          error={errors.endpoint}
          onChange={(e) => set('endpoint', e.currentTarget.value)}
        />
        <NumberInput
          label="Port"
          description="MQTT over TLS."
          min={1}
          max={65535}
          allowDecimal={false}
          allowNegative={false}
          required
          maw={160}
          value={values.port as number | string}
          error={errors.port}
          onChange={(v) => set('port', v)}
        />
      </Group>
      <Radio.Group
        label="Certificate registration"
        value={text('registration') || 'per-device'}
        error={errors.registration}
        onChange={(v) => set('registration', v)}
      >
        <Stack gap={6} mt={6}>
          <Radio
            value="per-device"
            label="Per device: each device certificate is registered on its own"
          />
          <Radio
            value="ca"
            label="CA: this platform's issuing CAs are registered, device certificates under them"
          />
        </Stack>
      </Radio.Group>
      {values.registration === 'ca' && (
        <TextInput
          label="JITP role ARN"
          description="The IAM role for just-in-time provisioning under the registered CA. Optional."
          placeholder="arn:aws:iam::123456789012:role/trustlink-jitp"
          value={text('jitpRoleArn')}
          error={errors.jitpRoleArn}
          onChange={(e) => set('jitpRoleArn', e.currentTarget.value)}
        />
      )}
      <Checkbox
        label="Custom authentication (recorded only: the authorizer is not created by this platform yet)"
        checked={values.customAuthentication === true}
        onChange={(e) => set('customAuthentication', e.currentTarget.checked)}
      />
      {values.customAuthentication === true && (
        <TextInput
          label="Custom authorizer name"
          value={text('customAuthorizerName')}
          error={errors.customAuthorizerName}
          onChange={(e) => set('customAuthorizerName', e.currentTarget.value)}
        />
      )}
      <PolicyDocumentField {...props} />
      <PemField
        {...props}
        field="rootCertificate"
        label="Root certificate"
        description="Handed to devices to verify the endpoint; prefilled with Amazon Root CA 1. Empty: that default."
      />
      <ApiEndpointFields
        {...props}
        endpoint
        defaultEndpoint={`https://iot.${region}.amazonaws.com`}
      />
    </Stack>
  );
}

/** AWS IoT Core: things, policies and certificates kept in step through the AWS IoT API. */
export const AWS_FORM: HubFormEntry = {
  type: 'aws-iot-core',
  label: 'AWS IoT Core',
  description:
    'Each enrolled device becomes a thing in your AWS account with its own IoT policy and certificate; renewals and revocations follow. Devices connect to the account endpoint with their device ID.',
  hasTools: false,
  secretFields: ['accessKeyId', 'secretAccessKey'],
  fields: [
    'region',
    'endpoint',
    'port',
    'accessKeyId',
    'secretAccessKey',
    'registration',
    'jitpRoleArn',
    'customAuthentication',
    'customAuthorizerName',
    'policyDocument',
    'rootCertificate',
    'apiEndpoint',
    'apiCaCertificate',
  ],
  initial: (hub) => ({
    ...textSettings(hub, TEXT_FIELDS),
    port: (hub?.settings.port as number | undefined) ?? 8883,
    registration: (hub?.settings.registration as string | undefined) ?? 'per-device',
    customAuthentication: hub?.settings.customAuthentication === true,
    accessKeyId: '',
    secretAccessKey: '',
    [SECRETS_SET]: secretsSetOf(hub),
  }),
  validate: awsProblems,
  toSettings: awsSettings,
  summary: (hub) =>
    `${String(hub.settings.region)}, ${String(hub.settings.endpoint)}:${String(hub.settings.port)}, ${
      hub.settings.registration === 'ca' ? 'CA registration' : 'per-device certificates'
    }`,
  Fields: AwsFields,
};
