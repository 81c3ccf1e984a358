import { Button, Group, Select, Stack, Switch, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useState } from 'react';
import type { ApiError } from '../api/api-client';
import { useApi } from '../api/api-context';
import { formProblem } from '../api/form-problems';
import { DurationInput } from '../components/duration-input';
import { ProblemAlert } from '../components/problem-alert';
import { durationCountError } from '../policies/duration-fns';
import { durationFieldError, type DurationField } from '../policies/policy-fns';
import { ISSUING_KEY_TYPES, KEY_TYPE_LABELS, type IssuingKeyType } from '../policies/policy-types';
import type { CaCertificate } from './hsm-types';

interface Values {
  name: string;
  lifetime: DurationField;
  keyType: IssuingKeyType;
  autoRenew: boolean;
}

/** Creates an issuing CA under the OEM root (administrators; the server checks). */
export function IssuingCaForm({
  onSaved,
  onCancel,
}: {
  onSaved: (c: CaCertificate) => void;
  onCancel: () => void;
}) {
  const api = useApi();
  const [error, setError] = useState<ApiError>();
  const form = useForm<Values>({
    initialValues: {
      name: '',
      lifetime: { value: 5, unit: 'years' },
      keyType: 'P-256',
      autoRenew: true,
    },
    validate: {
      name: (v) =>
        !v.trim() ? 'Enter a name' : v.length > 64 ? 'Use at most 64 characters' : null,
      lifetime: (v) => durationCountError(v.value),
    },
  });
  const submit = form.onSubmit(async (v) => {
    setError(undefined);
    try {
      onSaved(
        await api.post<CaCertificate>('/pki/issuing-cas', {
          name: v.name.trim(),
          lifetime: { value: Number(v.lifetime.value), unit: v.lifetime.unit },
          keyType: v.keyType,
          autoRenew: v.autoRenew,
        }),
      );
    } catch (err) {
      const p = formProblem(err, [
        'name',
        'lifetime',
        'lifetime.value',
        'lifetime.unit',
        'keyType',
      ]);
      form.setErrors(p.byField);
      setError(p.error);
    }
  });
  return (
    <form onSubmit={submit} noValidate aria-label="Create issuing CA">
      <Stack>
        <ProblemAlert error={error} title="The issuing CA was not created" />
        <TextInput label="Name" required data-autofocus {...form.getInputProps('name')} />
        <DurationInput
          label="Lifetime"
          required
          value={form.values.lifetime}
          onChange={(d) => {
            form.setFieldValue('lifetime', d);
            form.clearFieldError('lifetime');
          }}
          error={durationFieldError(form.errors, 'lifetime')}
        />
        <Select
          label="Key type"
          allowDeselect={false}
          data={ISSUING_KEY_TYPES.map((k) => ({ value: k, label: KEY_TYPE_LABELS[k] }))}
          {...form.getInputProps('keyType')}
        />
        <Switch
          label="Auto-renew"
          description="Make a successor before this CA expires."
          {...form.getInputProps('autoRenew', { type: 'checkbox' })}
        />
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>
            Cancel
          </Button>
          <Button type="submit" loading={form.submitting}>
            Create issuing CA
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
