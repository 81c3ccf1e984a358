import { Button, Group, Modal, Stack, Text } from '@mantine/core';
import { useEffect, useState, type ReactNode } from 'react';
import { ApiError } from '../api/api-client';
import { ProblemAlert } from './problem-alert';

/**
 * Asks before an action that cannot be undone (a deletion), runs it, and when the server
 * refuses (a 409 "in use", a 403) keeps the dialog open with the server's own explanation,
 * so the user reads why and what to do instead.
 */
export function ConfirmDialog({
  opened,
  title,
  children,
  confirmLabel = 'Delete',
  onConfirm,
  onClose,
  onDone,
}: {
  opened: boolean;
  title: string;
  children: ReactNode;
  confirmLabel?: string;
  onConfirm: () => Promise<unknown>;
  onClose: () => void;
  /** Called after the action succeeded (the dialog then closes). */
  onDone: () => void;
}) {
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  // What the dialog says while open; kept while it fades out, when the parent has already
  // forgotten what it was about.
  const [shown, setShown] = useState<ReactNode>(children);
  useEffect(() => {
    if (opened) setError(undefined);
  }, [opened]);
  useEffect(() => {
    if (opened) setShown(children);
  }, [opened, children]);

  const run = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await onConfirm();
      onDone();
      onClose();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal opened={opened} onClose={onClose} title={title}>
      <Stack>
        <Text component="div">{shown}</Text>
        <ProblemAlert error={error} title="The server refused" />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            {error ? 'Close' : 'Cancel'}
          </Button>
          {!error && (
            <Button color="red" loading={busy} onClick={() => void run()}>
              {confirmLabel}
            </Button>
          )}
        </Group>
      </Stack>
    </Modal>
  );
}
