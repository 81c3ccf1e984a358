import { Alert, Anchor, Button, Group, Select, Stack, Text } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useState } from 'react';
import { Link } from 'react-router';
import type { ApiError } from '../api/api-client';
import { useApi } from '../api/api-context';
import { formProblem } from '../api/form-problems';
import { useApiQuery } from '../api/use-api-query';
import { ProblemAlert } from '../components/problem-alert';
import { describeFilter } from '../devices/batch-fns';
import type { Batch } from '../devices/batch-types';
import type { SigningKey } from '../hsm/hsm-types';
import { pathWithAttributes } from './firmware-fns';
import type { Firmware, UpdateView } from './firmware-types';

/**
 * Assigns firmware to a batch with a signing key (administrators): the server signs the image
 * with the key in the key store and the batch's enrolled devices start their update. Opened
 * from a firmware (the batch is chosen) or from a batch (the firmware is chosen among those
 * whose attributes match the batch's filter, as the server requires).
 */
export function AssignForm({
  firmware,
  batch,
  onAssigned,
  onCancel,
}: {
  firmware?: Firmware;
  batch?: Batch;
  onAssigned: (u: UpdateView, batchName: string) => void;
  onCancel: () => void;
}) {
  const api = useApi();
  const batches = useApiQuery<{ items: Batch[] }>(batch ? null : '/batches');
  const filter = batch?.attributeFilter;
  const images = useApiQuery<{ items: Firmware[] }>(
    firmware || !filter
      ? null
      : pathWithAttributes(
          '/firmware',
          { operator: filter.filters.length ? filter.operator : undefined },
          filter.filters,
        ),
  );
  const keys = useApiQuery<{ keys: SigningKey[] }>('/pki/signing-keys');
  const [error, setError] = useState<ApiError>();
  const [other, setOther] = useState<string[]>([]);
  const form = useForm({
    mode: 'controlled',
    initialValues: {
      batchId: batch?.id ?? '',
      firmwareId: firmware?.id ?? batch?.firmwareId ?? '',
      signingKeyId: batch?.signingKeyId ?? '',
    },
    validate: {
      batchId: (v) => (v ? null : 'Choose a batch.'),
      firmwareId: (v) => (v ? null : 'Choose the firmware.'),
      signingKeyId: (v) => (v ? null : 'Choose a signing key.'),
    },
  });
  const chosen = batch ?? batches.data?.items.find((b) => b.id === form.values.batchId);

  const submit = form.onSubmit(async (v) => {
    setError(undefined);
    setOther([]);
    try {
      const u = await api.put<UpdateView>(`/batches/${v.batchId}/firmware`, {
        firmwareId: v.firmwareId,
        signingKeyId: v.signingKeyId,
      });
      onAssigned(u, chosen?.name ?? '');
    } catch (err) {
      const p = formProblem(err, ['batchId', 'signingKeyId', 'firmwareId']);
      form.setErrors(p.byField);
      setError(p.error);
      setOther(p.other);
    }
  });

  return (
    <form onSubmit={submit} noValidate aria-label="Assign firmware">
      <Stack>
        <ProblemAlert
          error={batches.error ?? images.error ?? keys.error}
          title="Choices cannot be loaded"
        />
        <ProblemAlert error={error} title="The firmware was not assigned" extra={other} />
        <Text size="sm">
          {firmware ? (
            <>
              Assign <b>{firmware.name}</b> ({firmware.version}) to a batch.
            </>
          ) : (
            <>
              Choose the firmware for batch <b>{batch?.name}</b>.
            </>
          )}{' '}
          The server signs it with the key you choose, and the batch&apos;s devices are told about
          the update at their next check-in.
        </Text>
        {!batch && (
          <Select
            label="Batch"
            required
            searchable
            placeholder={batches.data?.items.length === 0 ? 'No batch yet' : 'Choose a batch'}
            data={(batches.data?.items ?? []).map((b) => ({ value: b.id, label: b.name }))}
            {...form.getInputProps('batchId')}
          />
        )}
        {!firmware && (
          <Select
            label="Firmware"
            description={
              filter?.filters.length
                ? `Firmware whose attributes match the batch's filter: ${describeFilter(filter)}.`
                : 'The batch has no attribute filter: any firmware fits.'
            }
            required
            searchable
            placeholder={images.data?.items.length === 0 ? 'No firmware matches' : 'Choose'}
            data={(images.data?.items ?? []).map((f) => ({
              value: f.id,
              label: `${f.name} ${f.version}`,
            }))}
            {...form.getInputProps('firmwareId')}
          />
        )}
        {firmware && chosen?.firmwareId && chosen.firmwareId !== firmware.id && (
          <Alert color="orange" variant="light">
            Batch {chosen.name} has other firmware assigned; this replaces it.
          </Alert>
        )}
        <Select
          label="Signing key"
          description="Devices verify the signed manifest against this key's public key."
          required
          searchable
          placeholder={keys.data?.keys.length === 0 ? 'No signing key yet' : 'Choose a key'}
          data={(keys.data?.keys ?? []).map((k) => ({
            value: k.id,
            label: `${k.name} (${k.algorithm})`,
          }))}
          {...form.getInputProps('signingKeyId')}
        />
        {keys.data?.keys.length === 0 && (
          <Text size="xs" c="dimmed">
            Generate one on the{' '}
            <Anchor component={Link} to="/hsm?tab=signing-keys" size="xs">
              HSM screen, Signing keys tab
            </Anchor>
            .
          </Text>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>
            Cancel
          </Button>
          <Button type="submit" loading={form.submitting}>
            Assign and start update
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
