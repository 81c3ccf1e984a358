import { Button, Group, NumberInput, Select, Stack, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useState } from 'react';
import type { ApiError } from '../api/api-client';
import { useApi } from '../api/api-context';
import { formProblem } from '../api/form-problems';
import { ProblemAlert } from '../components/problem-alert';
import type { Batch } from '../devices/batch-types';
import {
  MAX_DEVICES_LIMIT,
  credentialErrors,
  credentialInputOf,
  newCredentialValues,
  type CredentialFormValues,
} from './manufacturing-fns';
import type { CreatedCredential } from './manufacturing-types';

/**
 * Creates a manufacturing credential for one batch, until a time and for at most a number of
 * new devices. The platform makes the value; the form sees it only in the server's answer.
 */
export function CredentialForm({
  batches,
  onCreated,
  onCancel,
}: {
  batches: Batch[];
  onCreated: (c: CreatedCredential) => void;
  onCancel: () => void;
}) {
  const api = useApi();
  const [error, setError] = useState<ApiError>();
  const form = useForm<CredentialFormValues>({
    initialValues: newCredentialValues(new Date()),
    validate: (v) => credentialErrors(v, new Date()),
  });
  const submit = form.onSubmit(async (v) => {
    setError(undefined);
    try {
      onCreated(
        await api.post<CreatedCredential>('/manufacturing-credentials', credentialInputOf(v)),
      );
    } catch (err) {
      const p = formProblem(err, ['name', 'batchId', 'notAfter', 'maxDevices']);
      form.setErrors(p.byField);
      setError(p.error);
    }
  });
  return (
    <form onSubmit={submit} noValidate aria-label="Create manufacturing credential">
      <Stack>
        <ProblemAlert error={error} title="The credential was not created" />
        <TextInput
          label="Credential name"
          description="Say which line or station holds it, e.g. Line A week 48."
          required
          data-autofocus
          {...form.getInputProps('name')}
        />
        <Select
          label="Batch"
          description="The only batch the station can add device IDs to."
          required
          searchable
          placeholder={batches.length ? 'Choose a batch' : 'No batch yet: create one on Devices'}
          data={batches.map((b) => ({ value: b.id, label: b.name }))}
          {...form.getInputProps('batchId')}
        />
        <Group grow align="flex-start">
          <TextInput
            type="datetime-local"
            label="Not after"
            description="The credential stops working then."
            required
            {...form.getInputProps('notAfter')}
          />
          <NumberInput
            label="Maximum devices"
            description="New device IDs it may add, at most."
            required
            min={1}
            max={MAX_DEVICES_LIMIT}
            allowDecimal={false}
            allowNegative={false}
            clampBehavior="none"
            thousandSeparator=","
            {...form.getInputProps('maxDevices')}
          />
        </Group>
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>
            Cancel
          </Button>
          <Button type="submit" loading={form.submitting}>
            Create credential
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
