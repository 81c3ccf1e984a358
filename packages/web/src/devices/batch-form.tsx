import { Button, Group, Select, Stack, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { IconPlus } from '@tabler/icons-react';
import { useEffect, useState } from 'react';
import type { ApiError } from '../api/api-client';
import { useApi } from '../api/api-context';
import { formProblem } from '../api/form-problems';
import { ProblemAlert } from '../components/problem-alert';
import type { Policy } from '../policies/policy-types';
import { AttributeFilters } from './attribute-filters';
import { batchErrors, batchInputOf, batchValues, type BatchFormValues } from './batch-fns';
import type { Batch } from './batch-types';

const FIELDS = [
  'name',
  'policyId',
  'attributeFilter.operator',
  ...Array.from({ length: 32 }, (_, i) => [
    `attributeFilter.filters.${i}.name`,
    `attributeFilter.filters.${i}.value`,
  ]).flat(),
];
const CODE_FIELDS = { 'name-taken': 'name' };

/**
 * Creates a batch (no `batch`) or changes one: name, policy and attribute filter. "Create
 * policy" leaves this form as it is while a policy is made; the new one comes back selected
 * (`chosenPolicyId`).
 */
export function BatchForm({
  batch,
  policies,
  chosenPolicyId,
  onCreatePolicy,
  onSaved,
  onCancel,
}: {
  batch?: Batch;
  policies: Policy[];
  chosenPolicyId?: string;
  onCreatePolicy: () => void;
  onSaved: (b: Batch) => void;
  onCancel: () => void;
}) {
  const api = useApi();
  const [error, setError] = useState<ApiError>();
  const [other, setOther] = useState<string[]>([]);
  const form = useForm<BatchFormValues>({
    mode: 'controlled',
    initialValues: batchValues(batch),
    validate: batchErrors,
  });
  const { setFieldValue } = form;
  useEffect(() => {
    if (chosenPolicyId) setFieldValue('policyId', chosenPolicyId);
  }, [chosenPolicyId, setFieldValue]);

  const submit = form.onSubmit(async (v) => {
    setError(undefined);
    setOther([]);
    try {
      const body = batchInputOf(v);
      const saved = batch
        ? await api.put<Batch>(`/batches/${batch.id}`, body)
        : await api.post<Batch>('/batches', body);
      onSaved(saved);
    } catch (err) {
      const p = formProblem(err, FIELDS, CODE_FIELDS);
      form.setErrors(p.byField);
      setError(p.error);
      setOther(p.other);
    }
  });

  return (
    <form onSubmit={submit} noValidate aria-label={batch ? 'Edit batch' : 'Create batch'}>
      <Stack>
        <ProblemAlert error={error} title="The batch was not saved" extra={other} />
        <TextInput
          label="Batch name"
          description="Unique; letters, digits, spaces, dots, underscores and hyphens."
          required
          data-autofocus
          {...form.getInputProps('name')}
        />
        <Group align="flex-end" wrap="nowrap">
          <Select
            label="Policy"
            description="How the batch's devices get their certificates and where they connect."
            placeholder={policies.length ? 'Choose a policy' : 'No policy yet: create one'}
            required
            searchable
            style={{ flex: 1 }}
            data={policies.map((p) => ({ value: p.id, label: p.name }))}
            {...form.getInputProps('policyId')}
          />
          <Button
            variant="default"
            leftSection={<IconPlus size={16} aria-hidden />}
            onClick={onCreatePolicy}
          >
            Create policy
          </Button>
        </Group>
        <AttributeFilters form={form} />
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>
            Cancel
          </Button>
          <Button type="submit" loading={form.submitting}>
            {batch ? 'Save batch' : 'Create batch'}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
