import { Button, Group, Modal, Radio, Select, Stack, Text, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useState } from 'react';
import type { ApiError } from '../api/api-client';
import { useApi } from '../api/api-context';
import { formProblem } from '../api/form-problems';
import { useApiQuery } from '../api/use-api-query';
import { ProblemAlert } from '../components/problem-alert';
import { taskErrors, type TaskFormValues } from './provisioning-fns';
import { DEVICE_TYPE_LABELS, type Task, type TaskInput } from './provisioning-types';

interface FirmwareItem {
  id: string;
  name: string;
  version: string;
  format: string;
}
interface BatchItem {
  id: string;
  name: string;
  signingKeyId: string | null;
}

const FIELDS = [
  'name',
  'deviceType',
  'bootloaderKind',
  'bootloaderFirmwareId',
  'partitionTableFirmwareId',
  'iefFirmwareId',
  'batchId',
];
const CODE_FIELDS = { 'name-taken': 'name' };

const valuesOf = (t?: Task): TaskFormValues => ({
  name: t?.name ?? '',
  deviceType: t?.deviceType ?? 'esp32',
  bootloaderKind: t?.bootloaderKind ?? 'development',
  bootloaderFirmwareId: t?.bootloader.id ?? '',
  partitionTableFirmwareId: t?.partitionTable.id ?? '',
  iefFirmwareId: t?.ief.id ?? '',
  batchId: t?.batch.id ?? '',
});

/** Creates a task (no `task`) or changes one. The server's refusals show beside their field. */
function TaskForm({
  task,
  onSaved,
  onCancel,
}: {
  task?: Task;
  onSaved: (t: Task) => void;
  onCancel: () => void;
}) {
  const api = useApi();
  const firmware = useApiQuery<{ items: FirmwareItem[] }>('/firmware');
  const batches = useApiQuery<{ items: BatchItem[] }>('/batches');
  const [error, setError] = useState<ApiError>();
  const [other, setOther] = useState<string[]>([]);
  const form = useForm<TaskFormValues>({
    mode: 'controlled',
    initialValues: valuesOf(task),
    validate: taskErrors,
  });
  const images = (formats: string[]) =>
    (firmware.data?.items ?? [])
      .filter((f) => formats.includes(f.format))
      .map((f) => ({ value: f.id, label: `${f.name} (${f.version})` }));
  const batch = batches.data?.items.find((b) => b.id === form.values.batchId);

  const submit = form.onSubmit(async (v) => {
    setError(undefined);
    setOther([]);
    try {
      const body = { ...v, name: v.name.trim() } as TaskInput;
      onSaved(
        task
          ? await api.put<Task>(`/provisioning-tasks/${task.id}`, body)
          : await api.post<Task>('/provisioning-tasks', body),
      );
    } catch (err) {
      const p = formProblem(err, FIELDS, CODE_FIELDS);
      form.setErrors(p.byField);
      setError(p.error);
      setOther(p.other);
    }
  });

  return (
    <form onSubmit={submit} noValidate aria-label={task ? 'Edit task' : 'New task'}>
      <Stack>
        <ProblemAlert
          error={firmware.error ?? batches.error}
          title="The firmware library or batches cannot be listed"
        />
        <ProblemAlert error={error} title="The task was not saved" extra={other} />
        <TextInput
          label="Task name"
          description="Unique on this instance."
          required
          data-autofocus
          {...form.getInputProps('name')}
        />
        <Select
          label="Device type"
          description="Decides where each image goes: the bootloader at 0x1000 on ESP32, at 0x0 on later chips."
          required
          allowDeselect={false}
          data={Object.entries(DEVICE_TYPE_LABELS).map(([value, label]) => ({ value, label }))}
          {...form.getInputProps('deviceType')}
        />
        <Radio.Group label="Bootloader" required {...form.getInputProps('bootloaderKind')}>
          <Stack gap="xs" mt="xs">
            <Radio
              value="development"
              label="Development"
              description="No key is burned into eFuses; the device stays re-programmable. Images are signed when the batch has a signing key."
            />
            <Radio
              value="release"
              label="Release"
              description="For production: secure boot is enabled for good on first boot and the device runs only images signed with the batch's key."
            />
          </Stack>
        </Radio.Group>
        <Select
          label="Bootloader image"
          description="An ESP32 image from the firmware library (format ESP32 Secure Boot V2)."
          placeholder="Choose from the firmware library"
          required
          searchable
          data={images(['esp32-sbv2'])}
          {...form.getInputProps('bootloaderFirmwareId')}
        />
        <Select
          label="Partition table"
          description="The partition table binary (raw) written at 0x8000; it must reserve the provisioning config at 0xD000."
          placeholder="Choose from the firmware library"
          required
          searchable
          data={images(['raw'])}
          {...form.getInputProps('partitionTableFirmwareId')}
        />
        <Select
          label="Initial enrolment firmware"
          description="The first application (at 0x10000): it creates the device key, prints its identity and enrols."
          placeholder="Choose from the firmware library"
          required
          searchable
          data={images(['esp32-sbv2'])}
          {...form.getInputProps('iefFirmwareId')}
        />
        <Select
          label="Batch"
          description="Provisioned devices' IDs are added here; its signing key signs the bootloader and firmware."
          placeholder="Choose a batch"
          required
          searchable
          data={(batches.data?.items ?? []).map((b) => ({ value: b.id, label: b.name }))}
          {...form.getInputProps('batchId')}
        />
        {batch && (
          <Text size="sm" c="dimmed">
            {batch.signingKeyId
              ? 'This batch has a signing key: the bootloader and firmware are signed for it when flashed.'
              : 'This batch has no signing key yet (it gets one when firmware is assigned to it): images are flashed unsigned, and a release bootloader is refused.'}
          </Text>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>
            Cancel
          </Button>
          <Button type="submit" loading={form.submitting}>
            {task ? 'Save task' : 'Create task'}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

/** The New task / Edit task dialog. */
export function TaskDialog({
  opened,
  task,
  onClose,
  onSaved,
}: {
  opened: boolean;
  task?: Task;
  onClose: () => void;
  onSaved: (t: Task) => void;
}) {
  return (
    <Modal
      opened={opened}
      onClose={onClose}
      title={task ? `Edit task ${task.name}` : 'New task'}
      size="lg"
    >
      {opened && (
        <TaskForm
          task={task}
          onCancel={onClose}
          onSaved={(t) => {
            onClose();
            onSaved(t);
          }}
        />
      )}
    </Modal>
  );
}
