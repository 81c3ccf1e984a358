import { Button, Group, Select, Stack, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useState } from 'react';
import type { ApiError } from '../api/api-client';
import { useApi } from '../api/api-context';
import { formProblem } from '../api/form-problems';
import { ProblemAlert } from '../components/problem-alert';
import type { Batch } from '../devices/batch-types';
import { localInputToIso } from '../logs/audit-fns';
import { defaultTokenWindow, tokenErrors, type TokenFormValues } from './hsm-fns';
import type { EnrolmentToken } from './hsm-types';

/** A new token as the server answers its creation: the only time the value is sent. */
export type CreatedToken = EnrolmentToken & { value: string };

/**
 * Creates an enrolment token (P6) for a batch, valid between two times. The platform makes
 * the value; this form never sees one until the server's answer.
 */
export function TokenForm({
  batches,
  onCreated,
  onCancel,
}: {
  batches: Batch[];
  onCreated: (t: CreatedToken) => void;
  onCancel: () => void;
}) {
  const api = useApi();
  const [error, setError] = useState<ApiError>();
  const form = useForm<TokenFormValues>({
    initialValues: { name: '', batchId: null, ...defaultTokenWindow(new Date()) },
    validate: (v) => tokenErrors(v, new Date()),
  });
  const submit = form.onSubmit(async (v) => {
    setError(undefined);
    try {
      onCreated(
        await api.post<CreatedToken>('/enrolment-tokens', {
          name: v.name.trim(),
          batchId: v.batchId,
          notBefore: localInputToIso(v.notBefore),
          notAfter: localInputToIso(v.notAfter),
        }),
      );
    } catch (err) {
      const p = formProblem(err, ['name', 'batchId', 'notBefore', 'notAfter'], {
        'name-taken': 'name',
      });
      form.setErrors(p.byField);
      setError(p.error);
    }
  });
  return (
    <form onSubmit={submit} noValidate aria-label="Create token">
      <Stack>
        <ProblemAlert error={error} title="The token was not created" />
        <TextInput label="Token name" required data-autofocus {...form.getInputProps('name')} />
        <Select
          label="Batch"
          required
          placeholder={batches.length ? 'Choose a batch' : 'No batch yet: create one on Devices'}
          data={batches.map((b) => ({ value: b.id, label: b.name }))}
          {...form.getInputProps('batchId')}
        />
        <Group grow align="flex-start">
          <TextInput
            type="datetime-local"
            label="Not before"
            required
            {...form.getInputProps('notBefore')}
          />
          <TextInput
            type="datetime-local"
            label="Not after"
            required
            {...form.getInputProps('notAfter')}
          />
        </Group>
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>
            Cancel
          </Button>
          <Button type="submit" loading={form.submitting}>
            Create token
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
