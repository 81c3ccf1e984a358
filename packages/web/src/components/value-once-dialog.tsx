import { Alert, Button, Code, CopyButton, Group, Modal, Stack, Text } from '@mantine/core';
import { IconAlertTriangle } from '@tabler/icons-react';
import { useId, type ReactNode } from 'react';

/**
 * Shows a new secret's value, once (an enrolment token, a manufacturing credential): the
 * server keeps only its hash, so closing this dialog is the last chance to copy it. A click
 * beside the dialog does not close it; only the explicit button does. `children` tells where
 * the value goes and what it can do.
 */
export function ValueOnceDialog({
  value,
  title,
  valueTestId,
  onClose,
  children,
}: {
  /** The value to show; the dialog is open while it is set. */
  value?: string;
  title: string;
  /** The test ID of the value's block, for the browser tests. */
  valueTestId: string;
  onClose: () => void;
  children: ReactNode;
}) {
  const labelId = useId();
  return (
    <Modal
      opened={value !== undefined}
      onClose={onClose}
      closeOnClickOutside={false}
      title={title}
      size="lg"
    >
      <Stack>
        <Alert
          color="orange"
          variant="light"
          icon={<IconAlertTriangle aria-hidden />}
          title="Shown only this once"
        >
          {children}
        </Alert>
        <Text size="sm" fw={500} id={labelId}>
          Value
        </Text>
        <Code
          block
          fz="md"
          data-testid={valueTestId}
          aria-labelledby={labelId}
          style={{ wordBreak: 'break-all', whiteSpace: 'pre-wrap' }}
        >
          {value}
        </Code>
        <Group justify="flex-end">
          <CopyButton value={value ?? ''}>
            {({ copied, copy }) => (
              <Button variant="default" onClick={copy}>
                {copied ? 'Copied' : 'Copy value'}
              </Button>
            )}
          </CopyButton>
          <Button onClick={onClose}>I have copied it</Button>
        </Group>
      </Stack>
    </Modal>
  );
}
