import { Radio, Stack, TextInput } from '@mantine/core';
import { ApiEndpointFields, PemField, usePrefill } from './cloud-hub-fields';
import {
  SECRETS_SET,
  centralProblems,
  centralSettings,
  iotHubProblems,
  iotHubSettings,
  secretsSetOf,
  textOf,
  textSettings,
} from './cloud-hub-fns';
import type { HubFieldsProps, HubFormEntry } from './hub-form-registry';
import { SecretInput } from './secret-input';

const ROOT_DESCRIPTION =
  "Handed to devices to verify Azure's endpoints; prefilled with DigiCert Global Root G2 and Microsoft RSA Root CA 2017. Empty: those defaults.";

function IotHubFields(props: HubFieldsProps) {
  const { values, errors, set } = props;
  usePrefill('azure-iot-hub', props);
  const text = (f: string) => String(values[f] ?? '');
  const host = textOf(values.hostName) || '<host name>';
  return (
    <Stack>
      <TextInput
        label="Host name"
        description="The IoT hub's host name (Overview > Hostname)."
        placeholder="my-hub.azure-devices.net"
        required
        value={text('hostName')}
        error={errors.hostName}
        onChange={(e) => set('hostName', e.currentTarget.value)}
      />
      <TextInput
        label="Shared access policy name"
        description="A policy with the Registry write permission (Security settings > Shared access policies)."
        placeholder="registryReadWrite"
        required
        value={text('sharedAccessPolicyName')}
        error={errors.sharedAccessPolicyName}
        onChange={(e) => set('sharedAccessPolicyName', e.currentTarget.value)}
      />
      <SecretInput
        {...props}
        field="sharedAccessKey"
        label="Shared access key"
        description="That policy's primary key. Stored encrypted; never shown again."
      />
      <Radio.Group
        label="Device authentication"
        value={text('authentication') || 'thumbprint'}
        error={errors.authentication}
        onChange={(v) => set('authentication', v)}
      >
        <Stack gap={6} mt={6}>
          <Radio
            value="thumbprint"
            label="Thumbprint: each device identity holds its certificate's thumbprint"
          />
          <Radio
            value="ca"
            label="CA: identities trust issuing CAs you uploaded and verified in the hub"
          />
        </Stack>
      </Radio.Group>
      <PemField
        {...props}
        field="rootCertificate"
        label="Root certificate"
        description={ROOT_DESCRIPTION}
      />
      <ApiEndpointFields {...props} endpoint defaultEndpoint={`https://${host}`} />
    </Stack>
  );
}

/** Azure IoT Hub: one device identity per device, kept through the hub's service REST API. */
export const AZURE_IOT_HUB_FORM: HubFormEntry = {
  type: 'azure-iot-hub',
  label: 'Azure IoT Hub',
  description:
    "Each enrolled device gets an identity in your IoT hub that trusts its certificate; renewals swap the thumbprint and revocation disables the identity. Devices connect to the hub's host name with their device ID.",
  hasTools: false,
  secretFields: ['sharedAccessKey'],
  fields: [
    'hostName',
    'sharedAccessPolicyName',
    'sharedAccessKey',
    'authentication',
    'rootCertificate',
    'apiEndpoint',
    'apiCaCertificate',
  ],
  initial: (hub) => ({
    ...textSettings(hub, [
      'hostName',
      'sharedAccessPolicyName',
      'rootCertificate',
      'apiEndpoint',
      'apiCaCertificate',
    ]),
    authentication: (hub?.settings.authentication as string | undefined) ?? 'thumbprint',
    sharedAccessKey: '',
    [SECRETS_SET]: secretsSetOf(hub),
  }),
  validate: iotHubProblems,
  toSettings: iotHubSettings,
  summary: (hub) =>
    `${String(hub.settings.hostName)}, policy ${String(hub.settings.sharedAccessPolicyName)}, ${
      hub.settings.authentication === 'ca' ? 'CA' : 'thumbprint'
    } authentication`,
  Fields: IotHubFields,
};

function CentralFields(props: HubFieldsProps) {
  const { values, errors, set } = props;
  usePrefill('azure-iot-central', props);
  const text = (f: string) => String(values[f] ?? '');
  return (
    <Stack>
      <TextInput
        label="Application URL"
        description="The IoT Central application's address."
        placeholder="https://my-app.azureiotcentral.com"
        required
        value={text('appUrl')}
        error={errors.appUrl}
        onChange={(e) => set('appUrl', e.currentTarget.value)}
      />
      <SecretInput
        {...props}
        field="apiToken"
        label="API token"
        description="Permissions > API tokens: the whole SharedAccessSignature text, of a role that may manage devices. Stored encrypted; never shown again."
      />
      <TextInput
        label="ID scope"
        description="Permissions > Device connection groups; handed to devices for the provisioning service. Optional."
        placeholder="0ne00A1B2C3"
        value={text('idScope')}
        error={errors.idScope}
        onChange={(e) => set('idScope', e.currentTarget.value)}
      />
      <PemField
        {...props}
        field="rootCertificate"
        label="Root certificate"
        description={ROOT_DESCRIPTION}
      />
      <ApiEndpointFields {...props} endpoint={false} defaultEndpoint="" />
    </Stack>
  );
}

/** Azure IoT Central: devices and their X.509 attestation kept through the application's API. */
export const AZURE_IOT_CENTRAL_FORM: HubFormEntry = {
  type: 'azure-iot-central',
  label: 'Azure IoT Central',
  description:
    "Each enrolled device is created in your IoT Central application with its certificate as attestation; revocation blocks it. Devices reach the application through Azure's provisioning service with the ID scope.",
  hasTools: false,
  secretFields: ['apiToken'],
  fields: ['appUrl', 'apiToken', 'idScope', 'rootCertificate', 'apiCaCertificate'],
  initial: (hub) => ({
    ...textSettings(hub, ['appUrl', 'idScope', 'rootCertificate', 'apiCaCertificate']),
    apiToken: '',
    [SECRETS_SET]: secretsSetOf(hub),
  }),
  validate: centralProblems,
  toSettings: centralSettings,
  summary: (hub) =>
    `${String(hub.settings.appUrl)}${hub.settings.idScope ? `, ID scope ${String(hub.settings.idScope)}` : ''}`,
  Fields: CentralFields,
};
