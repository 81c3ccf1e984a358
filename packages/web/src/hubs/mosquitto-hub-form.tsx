import { FileButton, Group, NumberInput, Stack, TextInput, Textarea, Button } from '@mantine/core';
import { IconFileUpload } from '@tabler/icons-react';
import {
  AccessRulesFields,
  RULE_FIELDS,
  rulesOfValues,
  rulesProblems,
  rulesValues,
} from './access-rules-fields';
import type { HubFieldsProps, HubFormEntry } from './hub-form-registry';
import {
  hostProblem,
  managedDirectoryProblem,
  pemCertificatesProblem,
  portProblem,
} from './hub-fns';

function MosquittoFields(props: HubFieldsProps) {
  const { values, errors, set } = props;
  const text = (f: string) => String(values[f] ?? '');
  return (
    <Stack>
      <Group grow align="flex-start">
        <TextInput
          label="Host"
          description="Where devices, tools and this platform reach the broker's TLS listener."
          placeholder="mqtt.example.com"
          required
          value={text('host')}
          error={errors.host}
          onChange={(e) => set('host', e.currentTarget.value)}
        />
        <NumberInput
          label="Port"
          description="Its TLS port."
          min={1}
          max={65535}
          allowDecimal={false}
          allowNegative={false}
          required
          value={values.port as number | string}
          error={errors.port}
          onChange={(v) => set('port', v)}
        />
      </Group>
      <TextInput
        label="Managed directory"
        description="The broker's directory under the operator's Mosquitto root, where this platform writes its CA bundle, CRLs and ACL."
        placeholder="plant-1"
        required
        value={text('managedDirectory')}
        error={errors.managedDirectory}
        onChange={(e) => set('managedDirectory', e.currentTarget.value)}
      />
      <Stack gap={4}>
        <Textarea
          label="Broker CA certificate"
          description="PEM of the CA that signed the broker's server certificate, handed to devices. Optional: without it devices use their system roots."
          autosize
          minRows={2}
          maxRows={8}
          styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)', fontSize: 12 } }}
          value={text('caCertificate')}
          error={errors.caCertificate}
          onChange={(e) => set('caCertificate', e.currentTarget.value)}
        />
        <Group>
          <FileButton
            accept=".pem,.crt,.cer,application/x-pem-file"
            onChange={(f) => void f?.text().then((t) => set('caCertificate', t))}
          >
            {(p) => (
              <Button
                {...p}
                variant="default"
                size="xs"
                leftSection={<IconFileUpload size={14} aria-hidden />}
              >
                Load CA certificate from a file
              </Button>
            )}
          </FileButton>
        </Group>
      </Stack>
      <AccessRulesFields {...props} />
    </Stack>
  );
}

/** A Mosquitto broker run by the operator, whose CA bundle, CRLs and ACL this platform writes. */
export const MOSQUITTO_FORM: HubFormEntry = {
  type: 'mosquitto',
  label: 'Mosquitto (managed)',
  description:
    'An external Mosquitto broker whose trust, revocation lists and ACL this platform keeps up to date. The operator must have set the Mosquitto root (TRUSTLINK_MOSQUITTO_MANAGED_ROOT).',
  hasTools: true,
  secretFields: [],
  fields: ['host', 'port', 'caCertificate', 'managedDirectory', ...RULE_FIELDS],
  initial: (hub) => ({
    host: (hub?.settings.host as string | undefined) ?? '',
    port: (hub?.settings.port as number | undefined) ?? 8883,
    caCertificate: (hub?.settings.caCertificate as string | null | undefined) ?? '',
    managedDirectory: (hub?.settings.managedDirectory as string | undefined) ?? '',
    ...rulesValues(hub),
  }),
  validate: (v) => {
    const e: Record<string, string> = rulesProblems(v);
    const host = hostProblem(String(v.host ?? ''));
    if (host) e.host = `Host ${host}.`;
    const port = portProblem(v.port as number | string);
    if (port) e.port = `Port ${port}.`;
    const dir = managedDirectoryProblem(String(v.managedDirectory ?? ''));
    if (dir) e.managedDirectory = `The directory ${dir}.`;
    const ca = String(v.caCertificate ?? '').trim();
    if (ca) {
      const p = pemCertificatesProblem(ca);
      if (p) e.caCertificate = `The CA certificate ${p}.`;
    }
    return e;
  },
  toSettings: (v) => ({
    host: String(v.host).trim(),
    port: Number(v.port),
    caCertificate: String(v.caCertificate ?? '').trim() || null,
    managedDirectory: String(v.managedDirectory),
    rules: rulesOfValues(v),
  }),
  summary: (hub) =>
    `${String(hub.settings.host)}:${String(hub.settings.port)}, directory ${String(hub.settings.managedDirectory)}`,
  Fields: MosquittoFields,
};
