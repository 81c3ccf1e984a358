import { Alert, Button, Code, CopyButton, Group, Modal, Stack, Text } from '@mantine/core';
import { IconAlertTriangle } from '@tabler/icons-react';
import type { CreatedToken } from './token-form';

/**
 * Shows a new token's value, once: the server keeps only its hash, so closing this dialog is
 * the last chance to copy it.
 */
export function TokenValueDialog({
  token,
  onClose,
}: {
  token?: CreatedToken;
  onClose: () => void;
}) {
  return (
    <Modal opened={!!token} onClose={onClose} title={`Token ${token?.name ?? ''}`} size="lg">
      <Stack>
        <Alert
          color="orange"
          variant="light"
          icon={<IconAlertTriangle aria-hidden />}
          title="Shown only this once"
        >
          Copy the value now and put it in the firmware of the batch’s devices. The platform keeps
          only its hash and cannot show it again. It is a second factor: it never enrols a device on
          its own.
        </Alert>
        <Text size="sm" fw={500} id="token-value-label">
          Value
        </Text>
        <Code block fz="md" data-testid="new-token-value" aria-labelledby="token-value-label">
          {token?.value}
        </Code>
        <Group justify="flex-end">
          <CopyButton value={token?.value ?? ''}>
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
