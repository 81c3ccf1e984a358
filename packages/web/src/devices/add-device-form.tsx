import { Button, Group, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useApi } from '../api/api-context';
import { formProblem } from '../api/form-problems';
import { notifySuccess } from '../components/notify';
import { checkDeviceId } from './batch-fns';
import type { UploadResult } from './batch-types';

/** Registers one device ID (64 hex digits) in the batch. */
export function AddDeviceForm({ batchId, onAdded }: { batchId: string; onAdded: () => void }) {
  const api = useApi();
  const form = useForm({
    initialValues: { deviceId: '' },
    validate: {
      deviceId: (v) => {
        const c = checkDeviceId(v);
        return c.ok ? null : `Not a device ID: ${c.reason}`;
      },
    },
  });
  const submit = form.onSubmit(async (v) => {
    const c = checkDeviceId(v.deviceId);
    if (!c.ok) return;
    try {
      const r = await api.post<UploadResult>(`/batches/${batchId}/devices`, { deviceId: c.id });
      notifySuccess(
        r.added ? 'The device ID is registered.' : 'The device ID was already in this batch.',
      );
      form.reset();
      onAdded();
    } catch (err) {
      // The server's reason (another batch holds the ID, ...) goes under the field.
      const p = formProblem(err, ['deviceId']);
      form.setErrors({
        deviceId: p.byField.deviceId ?? p.error?.problem.detail ?? p.other.join('; '),
      });
    }
  });
  return (
    <form onSubmit={submit} noValidate aria-label="Add a device ID">
      <Group align="flex-start" wrap="nowrap">
        <TextInput
          label="Device ID"
          description="64 hexadecimal digits: the SHA-256 of the device's identity public key."
          placeholder="e.g. 2fdbbebf7115…"
          autoComplete="off"
          spellCheck={false}
          styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }}
          style={{ flex: 1 }}
          {...form.getInputProps('deviceId')}
        />
        <Button type="submit" mt={46} loading={form.submitting}>
          Add
        </Button>
      </Group>
    </form>
  );
}
