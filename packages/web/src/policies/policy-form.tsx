import {
  Button,
  Checkbox,
  Fieldset,
  Group,
  SegmentedControl,
  Select,
  Stack,
  Switch,
  Text,
  TextInput,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useState } from 'react';
import type { ApiError } from '../api/api-client';
import { useApi } from '../api/api-context';
import { formProblem } from '../api/form-problems';
import { DurationInput } from '../components/duration-input';
import { ConnectionSelect } from '../database-direct/connection-select';
import { ProblemAlert } from '../components/problem-alert';
import { HubSelect } from '../hubs/hub-select';
import {
  durationFieldError,
  newPolicyValues,
  policyErrors,
  policyInputOf,
  policyValues,
  type DurationField,
  type PolicyFormValues,
} from './policy-fns';
import {
  CONNECTION_LABELS,
  DEVICE_KEY_TYPES,
  ISSUING_KEY_TYPES,
  KEY_TYPE_LABELS,
  type ConnectionType,
  type Policy,
} from './policy-types';

const DURATIONS = [
  'deviceCertificate.lifetime',
  'deviceCertificate.renewGracePeriod',
  'issuingCertificate.lifetime',
  'jwtLifetime',
];
/** Every field the server may name in a refusal (durations by themselves and by part). */
const FIELDS = [
  'name',
  'connectionType',
  'hubId',
  'databaseConnectionId',
  'deviceCertificate.keyTypes',
  'issuingCertificate.keyType',
  ...DURATIONS.flatMap((d) => [d, `${d}.value`, `${d}.unit`]),
];
const CODE_FIELDS = { 'name-taken': 'name' };

/**
 * Creates a policy (no `policy` given) or changes one, with every setting of the policy API.
 * The form refuses what the server would (see policyErrors); the server's answer still wins
 * and shows beside the field it names.
 */
export function PolicyForm({
  policy,
  onSaved,
  onCancel,
}: {
  policy?: Policy;
  onSaved: (p: Policy) => void;
  onCancel: () => void;
}) {
  const api = useApi();
  const [error, setError] = useState<ApiError>();
  const [other, setOther] = useState<string[]>([]);
  const form = useForm<PolicyFormValues>({
    initialValues: policy ? policyValues(policy) : newPolicyValues(),
    validate: (v) => policyErrors(v, new Date()),
  });
  const v = form.values;
  const direct = v.connectionType === 'database-direct';
  const durationProps = (path: string) => ({
    value: form.getInputProps(path).value as DurationField,
    onChange: (d: DurationField) => {
      form.setFieldValue(path, d as never);
      for (const key of [path, `${path}.value`, `${path}.unit`]) form.clearFieldError(key);
    },
    error: durationFieldError(form.errors, path),
  });

  const submit = form.onSubmit(async (values) => {
    setError(undefined);
    setOther([]);
    try {
      const body = policyInputOf(values);
      const saved = policy
        ? await api.put<Policy>(`/policies/${policy.id}`, body)
        : await api.post<Policy>('/policies', body);
      onSaved(saved);
    } catch (err) {
      const p = formProblem(err, FIELDS, CODE_FIELDS);
      form.setErrors(p.byField);
      setError(p.error);
      setOther(p.other);
    }
  });

  return (
    <form onSubmit={submit} noValidate aria-label={policy ? 'Edit policy' : 'Create policy'}>
      <Stack>
        <ProblemAlert error={error} title="The policy was not saved" extra={other} />
        <TextInput
          label="Policy name"
          description="Unique; letters, digits, spaces, dots, underscores and hyphens."
          required
          data-autofocus
          {...form.getInputProps('name')}
        />
        <Stack gap={4}>
          <Text size="sm" fw={500} id="connection-type-label">
            Connection type
          </Text>
          <SegmentedControl
            aria-labelledby="connection-type-label"
            data={(Object.keys(CONNECTION_LABELS) as ConnectionType[]).map((t) => ({
              value: t,
              label: CONNECTION_LABELS[t],
            }))}
            {...form.getInputProps('connectionType')}
          />
          <Text size="xs" c="dimmed">
            {direct
              ? 'Devices write to a database directly, with short-lived tokens (JWT) from this instance.'
              : 'Devices connect to an IoT hub (a broker or cloud) with their certificate.'}
          </Text>
        </Stack>
        {direct ? (
          <ConnectionSelect
            value={v.databaseConnectionId}
            onChange={(id) => {
              form.setFieldValue('databaseConnectionId', id);
              form.clearFieldError('databaseConnectionId');
            }}
            error={form.errors.databaseConnectionId as string | undefined}
          />
        ) : (
          <HubSelect
            value={v.hubId}
            onChange={(id) => {
              form.setFieldValue('hubId', id);
              form.clearFieldError('hubId');
            }}
            error={form.errors.hubId as string | undefined}
          />
        )}

        <Fieldset legend="Device certificate">
          <Stack>
            <DurationInput
              label="Device certificate lifetime"
              description="Never longer than the issuing certificate's."
              required
              {...durationProps('deviceCertificate.lifetime')}
            />
            <Checkbox.Group
              label="Accepted device key types"
              description="Keys a device's identity may use."
              required
              {...form.getInputProps('deviceCertificate.keyTypes')}
            >
              <Group mt={6}>
                {DEVICE_KEY_TYPES.map((k) => (
                  <Checkbox key={k} value={k} label={KEY_TYPE_LABELS[k]} />
                ))}
              </Group>
            </Checkbox.Group>
            <Switch
              label="Operational key allowed"
              description="A device may have a separate operational key certified; its proof still comes from the identity key."
              {...form.getInputProps('deviceCertificate.operationalKeyAllowed', {
                type: 'checkbox',
              })}
            />
            <Switch
              label="Auto-renew device certificates"
              description="Issue a new certificate before the current one expires."
              {...form.getInputProps('deviceCertificate.autoRenew', { type: 'checkbox' })}
            />
            <DurationInput
              label="Renewal grace period"
              description="How long after expiry a device may still renew by proving its identity key."
              required
              {...durationProps('deviceCertificate.renewGracePeriod')}
            />
          </Stack>
        </Fieldset>

        <Fieldset legend="Issuing certificate">
          <Stack>
            <DurationInput
              label="Issuing certificate lifetime"
              required
              {...durationProps('issuingCertificate.lifetime')}
            />
            <Select
              label="Issuing key type"
              description="The key of the issuing CA, and so the signature on device certificates."
              allowDeselect={false}
              data={ISSUING_KEY_TYPES.map((k) => ({ value: k, label: KEY_TYPE_LABELS[k] }))}
              {...form.getInputProps('issuingCertificate.keyType')}
            />
            <Switch
              label="Auto-renew the issuing certificate"
              {...form.getInputProps('issuingCertificate.autoRenew', { type: 'checkbox' })}
            />
          </Stack>
        </Fieldset>

        {direct && (
          <Fieldset legend="Database tokens (JWT)">
            <DurationInput
              label="JWT lifetime"
              description="At most 24 hours. Shorter is safer; devices renew tokens more often."
              units={['minutes', 'hours']}
              required
              {...durationProps('jwtLifetime')}
            />
          </Fieldset>
        )}

        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>
            Cancel
          </Button>
          <Button type="submit" loading={form.submitting}>
            {policy ? 'Save policy' : 'Create policy'}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
