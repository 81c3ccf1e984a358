import {
  ActionIcon,
  Alert,
  Button,
  Code,
  Collapse,
  CopyButton,
  Group,
  Modal,
  PasswordInput,
  Progress,
  ScrollArea,
  Stack,
  Text,
  TextInput,
  Tooltip,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { IconAlertTriangle, IconCheck, IconCopy, IconUsb } from '@tabler/icons-react';
import { useState } from 'react';
import { ApiError } from '../api/api-client';
import { useApi } from '../api/api-context';
import { webSerial } from '../terminal/web-serial';
import { flashImages, readIdentity, type FlashPort } from './esp-flasher';
import { imageStep, percent, wifiErrors } from './provisioning-fns';
import type { FlashPlan, IdentityResult, Task } from './provisioning-types';

type Phase =
  | { kind: 'form' }
  | { kind: 'running'; step: string }
  | { kind: 'done'; result: IdentityResult }
  | { kind: 'failed'; message: string };

const messageOf = (err: unknown) =>
  err instanceof ApiError ? err.problem.detail : err instanceof Error ? err.message : String(err);

/**
 * Runs a task on one device: Wi-Fi in, Start, the user picks the USB serial port, then the
 * console starts the run on the server (the flash plan), writes each image with esptool-js,
 * resets the device, waits for its identity line and hands it to the server, which derives
 * the device ID and adds it to the batch. The Wi-Fi password goes into the config blob only.
 */
export function RunDialog({ task, onClose }: { task: Task | undefined; onClose: () => void }) {
  const api = useApi();
  const [phase, setPhase] = useState<Phase>({ kind: 'form' });
  const [images, setImages] = useState<FlashPlan['images']>([]);
  const [progress, setProgress] = useState<number[]>([]);
  const [logs, setLogs] = useState<string[]>([]);
  const [showLogs, setShowLogs] = useState(false);
  const form = useForm({
    mode: 'controlled',
    initialValues: { ssid: '', password: '' },
    validate: wifiErrors,
  });
  const serial = webSerial();
  const log = (line: string) => setLogs((l) => [...l, line]);

  const close = () => {
    if (phase.kind === 'running') return;
    setPhase({ kind: 'form' });
    setImages([]);
    setProgress([]);
    setLogs([]);
    setShowLogs(false);
    form.reset();
    onClose();
  };

  async function start() {
    if (!task || !serial || form.validate().hasErrors) return;
    // The browser's port chooser needs the click's user activation: ask before anything else.
    let port: FlashPort;
    try {
      port = (await serial.requestPort()) as FlashPort;
    } catch {
      log('No serial port was chosen');
      return;
    }
    setLogs([]);
    setPhase({ kind: 'running', step: 'Preparing the images' });
    let plan: FlashPlan | undefined;
    const step = (s: string) => {
      log(s);
      setPhase({ kind: 'running', step: s });
    };
    try {
      step('Signing the images and making the provisioning config');
      plan = await api.post<FlashPlan>(`/provisioning-tasks/${task.id}/runs`, {
        wifi: form.values,
      });
      setImages(plan.images);
      setProgress(plan.images.map(() => 0));
      for (const i of plan.images) log(`Image: ${imageStep(i)}`);
      step('Flashing');
      await flashImages(port, plan, {
        log,
        progress: (index, written, total) =>
          setProgress((p) => p.map((v, i) => (i === index ? percent(written, total) : v))),
      });
      setProgress((p) => p.map(() => 100));
      step('Waiting for the device to print its identity');
      const line = await readIdentity(port, log);
      step('Registering the device');
      const run = plan.run;
      let result: IdentityResult;
      try {
        result = await api.post<IdentityResult>(
          `/provisioning-tasks/${task.id}/runs/${run.id}/identity`,
          { line },
        );
      } catch (err) {
        // The server refused the identity and has ended the run itself.
        plan = undefined;
        throw err;
      }
      log(
        result.alreadyInBatch
          ? `Device ${result.deviceId} was already in batch ${result.batch.name}`
          : `Device ${result.deviceId} added to batch ${result.batch.name}`,
      );
      setPhase({ kind: 'done', result });
    } catch (err) {
      const message = messageOf(err);
      log(`Failed: ${message}`);
      if (plan) {
        await api
          .post(`/provisioning-tasks/${task.id}/runs/${plan.run.id}/failure`, {
            reason: message.slice(0, 500),
          })
          .catch(() => undefined);
      }
      setPhase({ kind: 'failed', message });
    }
  }

  return (
    <Modal
      opened={task !== undefined}
      onClose={close}
      title={task ? `Run ${task.name}` : ''}
      size="lg"
      closeOnClickOutside={phase.kind !== 'running'}
      closeOnEscape={phase.kind !== 'running'}
      withCloseButton={phase.kind !== 'running'}
    >
      <Stack>
        {!serial && (
          <Alert color="yellow" icon={<IconAlertTriangle aria-hidden />} title="No Web Serial">
            This browser cannot reach USB serial ports. Use Chrome, Edge or Opera on a computer,
            over HTTPS.
          </Alert>
        )}
        {phase.kind === 'form' && (
          <>
            <Text size="sm">
              Connect the device by USB. The Wi-Fi below is written into the device with its
              configuration; the password is not kept by the server.
            </Text>
            <TextInput
              label="Wi-Fi network (SSID)"
              required
              data-autofocus
              {...form.getInputProps('ssid')}
            />
            <PasswordInput
              label="Wi-Fi password"
              description="Empty for an open network."
              autoComplete="off"
              {...form.getInputProps('password')}
            />
          </>
        )}
        {phase.kind === 'running' && (
          <Text size="sm" role="status">
            {phase.step}…
          </Text>
        )}
        {images.length > 0 && phase.kind !== 'form' && (
          <Stack gap="xs" aria-label="Flash progress">
            {images.map((img, i) => (
              <div key={img.part}>
                <Group justify="space-between">
                  <Text size="sm">
                    {img.name} at <Code>0x{img.address.toString(16)}</Code>
                    {img.signed ? ' (signed)' : ''}
                  </Text>
                  <Text size="sm" data-testid={`progress-${img.part}`}>
                    {progress[i] ?? 0}%
                  </Text>
                </Group>
                <Progress value={progress[i] ?? 0} aria-label={`${img.name} written`} />
              </div>
            ))}
          </Stack>
        )}
        {phase.kind === 'done' && (
          <Alert color="green" icon={<IconCheck aria-hidden />} title="Device provisioned">
            <Text size="sm">
              {phase.result.alreadyInBatch
                ? `This device was already in batch ${phase.result.batch.name}; nothing was added.`
                : `Its device ID is added to batch ${phase.result.batch.name}.`}
            </Text>
            <Group gap="xs" mt="xs" wrap="nowrap">
              <Code data-testid="provisioned-device-id">{phase.result.deviceId}</Code>
              <CopyButton value={phase.result.deviceId}>
                {({ copied, copy }) => (
                  <Tooltip label={copied ? 'Copied' : 'Copy device ID'}>
                    <ActionIcon variant="subtle" onClick={copy} aria-label="Copy device ID">
                      {copied ? (
                        <IconCheck size={16} aria-hidden />
                      ) : (
                        <IconCopy size={16} aria-hidden />
                      )}
                    </ActionIcon>
                  </Tooltip>
                )}
              </CopyButton>
            </Group>
          </Alert>
        )}
        {phase.kind === 'failed' && (
          <Alert
            color="red"
            role="alert"
            icon={<IconAlertTriangle aria-hidden />}
            title="Provisioning failed"
          >
            <Text size="sm">{phase.message}</Text>
            <Text size="sm" mt="xs">
              Nothing was added to the batch. Check the cable and the board, then start again.
            </Text>
          </Alert>
        )}
        {logs.length > 0 && (
          <>
            <Button
              variant="subtle"
              size="compact-sm"
              onClick={() => setShowLogs((s) => !s)}
              w="fit-content"
            >
              {showLogs ? 'Hide logs' : 'Show logs'}
            </Button>
            <Collapse expanded={showLogs}>
              <ScrollArea h={220} type="auto">
                <Code block aria-label="Provisioning log">
                  {logs.join('\n')}
                </Code>
              </ScrollArea>
            </Collapse>
          </>
        )}
        <Group justify="flex-end">
          {phase.kind === 'form' && (
            <>
              <Button variant="default" onClick={close}>
                Cancel
              </Button>
              <Button
                leftSection={<IconUsb size={18} aria-hidden />}
                onClick={() => void start()}
                disabled={!serial}
              >
                Start
              </Button>
            </>
          )}
          {phase.kind === 'failed' && (
            <Button variant="default" onClick={() => setPhase({ kind: 'form' })}>
              Try again
            </Button>
          )}
          {(phase.kind === 'done' || phase.kind === 'failed') && (
            <Button onClick={close}>Close</Button>
          )}
        </Group>
      </Stack>
    </Modal>
  );
}
