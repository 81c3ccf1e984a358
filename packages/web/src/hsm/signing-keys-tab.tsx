import { ActionIcon, Badge, Button, Group, Modal, Table, Text, Tooltip } from '@mantine/core';
import { IconDownload, IconPlus, IconSignature, IconTrash } from '@tabler/icons-react';
import { useState } from 'react';
import { useApi } from '../api/api-context';
import { useApiQuery } from '../api/use-api-query';
import { ConfirmDialog } from '../components/confirm-dialog';
import { notifySuccess } from '../components/notify';
import { ListSection } from '../components/list-section';
import { ListTable } from '../components/list-table';
import { formatTime } from '../logs/audit-fns';
import { useIsAdministrator } from '../session/use-is-administrator';
import { publicKeyFileName } from './hsm-fns';
import type { SigningKey } from './hsm-types';
import { SigningKeyForm } from './signing-key-form';
import { useDownload } from './use-download';

/**
 * Signing keys (P7) for firmware and manifests. Everyone may list them and download public
 * keys; generating, importing and deleting are for administrators (the server refuses a key a
 * batch uses, and says which).
 */
export function SigningKeysTab() {
  const api = useApi();
  const admin = useIsAdministrator();
  const download = useDownload();
  const { data, error, loading, reload } = useApiQuery<{ keys: SigningKey[] }>('/pki/signing-keys');
  const [creating, setCreating] = useState(false);
  const [removing, setRemoving] = useState<SigningKey>();
  const keys = data?.keys ?? [];

  return (
    <>
      <ListSection
        intro="Keys that sign firmware for devices to verify. Private parts never leave the key store; the public key of each can be downloaded."
        action={
          admin && (
            <Button
              leftSection={<IconPlus size={16} aria-hidden />}
              onClick={() => setCreating(true)}
            >
              Create signing key
            </Button>
          )
        }
        error={error}
        errorTitle="Signing keys cannot be shown"
        loading={loading}
        loadingLabel="Loading signing keys"
        items={data?.keys}
        empty={{
          icon: <IconSignature size={32} aria-hidden />,
          title: 'No signing keys',
          description: admin
            ? 'Create one before signing firmware: generate it in the key store for products.'
            : 'An administrator creates signing keys before firmware can be signed.',
        }}
      >
        <ListTable
          label="Signing keys"
          columns={['Name', 'Type', 'Size', 'Key store', 'Created']}
          actions="hidden"
          minWidth={720}
        >
          {keys.map((k) => (
            <Table.Tr key={k.id} data-testid={`signing-key-${k.name}`}>
              <Table.Td>
                <Group gap={6}>
                  <Text size="sm" fw={500}>
                    {k.name}
                  </Text>
                  {k.imported && (
                    <Badge
                      color="orange.9"
                      size="xs"
                      title="Imported: it existed outside the key store"
                    >
                      development
                    </Badge>
                  )}
                </Group>
              </Table.Td>
              <Table.Td>{k.type === 'ecdsa' ? 'ECDSA' : 'RSA'}</Table.Td>
              <Table.Td>{k.size} bits</Table.Td>
              <Table.Td>{k.backend === 'pkcs11' ? 'HSM (PKCS#11)' : 'software'}</Table.Td>
              <Table.Td>{formatTime(k.createdAt)}</Table.Td>
              <Table.Td>
                <Group gap={4} wrap="nowrap" justify="flex-end">
                  <Button
                    size="xs"
                    variant="default"
                    leftSection={<IconDownload size={14} aria-hidden />}
                    aria-label={`Download the public key of ${k.name}`}
                    onClick={() =>
                      void download(
                        `/pki/signing-keys/${k.id}/public-key`,
                        publicKeyFileName(k.name),
                      )
                    }
                  >
                    Public key
                  </Button>
                  {admin && (
                    <Tooltip label="Delete">
                      <ActionIcon
                        variant="subtle"
                        color="red"
                        aria-label={`Delete ${k.name}`}
                        onClick={() => setRemoving(k)}
                      >
                        <IconTrash size={18} aria-hidden />
                      </ActionIcon>
                    </Tooltip>
                  )}
                </Group>
              </Table.Td>
            </Table.Tr>
          ))}
        </ListTable>
      </ListSection>
      <Modal
        opened={creating}
        onClose={() => setCreating(false)}
        title="Create signing key"
        size="lg"
      >
        {creating && (
          <SigningKeyForm
            onCancel={() => setCreating(false)}
            onSaved={(k) => {
              setCreating(false);
              notifySuccess(`Signing key ${k.name} is ready.`);
              reload();
            }}
          />
        )}
      </Modal>
      <ConfirmDialog
        opened={!!removing}
        title="Delete signing key"
        onClose={() => setRemoving(undefined)}
        onConfirm={() => api.delete(`/pki/signing-keys/${removing?.id ?? ''}`)}
        onDone={() => {
          notifySuccess('The signing key is deleted.');
          reload();
        }}
      >
        Delete <b>{removing?.name}</b>? Its private key is destroyed: firmware signed with it can no
        longer be re-signed, and devices pinned to it accept nothing new from it. A key a batch uses
        cannot be deleted.
      </ConfirmDialog>
    </>
  );
}
