import { Alert, Button, Code, CopyButton, Group, Modal, Stack, Text } from '@mantine/core';
import { IconAlertTriangle } from '@tabler/icons-react';
import type { CreatedCredential } from './manufacturing-types';

/**
 * Shows a new credential's value, once: the server keeps only its hash, so closing this dialog
 * is the last chance to copy it.
 */
export function CredentialValueDialog({
  credential,
  batchName,
  onClose,
}: {
  credential?: CreatedCredential;
  batchName?: string;
  onClose: () => void;
}) {
  return (
    <Modal
      opened={!!credential}
      onClose={onClose}
      closeOnClickOutside={false}
      title={`Manufacturing credential ${credential?.name ?? ''}`}
      size="lg"
    >
      <Stack>
        <Alert
          color="orange"
          variant="light"
          icon={<IconAlertTriangle aria-hidden />}
          title="Shown only this once"
        >
          Copy the value now and give it to the line station (for example to
          <Code>trustlink-agent manufacture</Code>). The platform keeps only its hash and cannot
          show it again: if it is lost, delete the credential and create another. It adds device IDs
          to {batchName ? <b>{batchName}</b> : 'its batch'} only, and nothing else.
        </Alert>
        <Text size="sm" fw={500} id="credential-value-label">
          Value
        </Text>
        <Code
          block
          fz="md"
          data-testid="new-credential-value"
          aria-labelledby="credential-value-label"
          style={{ wordBreak: 'break-all', whiteSpace: 'pre-wrap' }}
        >
          {credential?.value}
        </Code>
        <Group justify="flex-end">
          <CopyButton value={credential?.value ?? ''}>
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
