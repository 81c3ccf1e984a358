import { ActionIcon, Badge, Button, Code, Group, Modal, Table, Text, Tooltip } from '@mantine/core';
import { IconDownload, IconPlus, IconShieldLock, IconTrash } from '@tabler/icons-react';
import { useState } from 'react';
import { useApi } from '../api/api-context';
import { useApiQuery } from '../api/use-api-query';
import { ConfirmDialog } from '../components/confirm-dialog';
import { notifySuccess } from '../components/notify';
import { ListSection } from '../components/list-section';
import { ListTable } from '../components/list-table';
import type { Batch } from '../devices/batch-types';
import { formatTime } from '../logs/audit-fns';
import { useIsAdministrator } from '../session/use-is-administrator';
import { AuthCertForm } from './auth-cert-form';
import { slug } from './hsm-fns';
import type { AuthCert } from './hsm-types';
import { useDownload } from './use-download';

const RULES = { 'must-pre-register': 'must pre-register', 'requires-token': 'requires token' };

/**
 * Auth certs (P5): factory CAs whose certificates devices may enrol with, each bound to a batch
 * and a rule. Everyone sees them; administrators import and remove them.
 */
export function AuthCertsTab() {
  const api = useApi();
  const admin = useIsAdministrator();
  const download = useDownload();
  const { data, error, loading, reload } = useApiQuery<{ items: AuthCert[] }>('/auth-certs');
  const batches = useApiQuery<{ items: Batch[] }>('/batches');
  const [importing, setImporting] = useState(false);
  const [removing, setRemoving] = useState<AuthCert>();
  const batchName = (id: string) => batches.data?.items.find((b) => b.id === id)?.name ?? id;
  const items = data?.items ?? [];

  return (
    <>
      <ListSection
        intro="CA certificates that signed devices’ factory certificates (secure elements). A device with such a certificate enrols into the cert’s batch when its rule also holds."
        action={
          admin && (
            <Button
              leftSection={<IconPlus size={16} aria-hidden />}
              onClick={() => setImporting(true)}
            >
              Import auth cert
            </Button>
          )
        }
        error={error}
        errorTitle="Auth certs cannot be shown"
        loading={loading}
        loadingLabel="Loading auth certs"
        items={data?.items}
        empty={{
          icon: <IconShieldLock size={32} aria-hidden />,
          title: 'No auth certs',
          description: admin
            ? 'Only needed for devices with certificates put in at the factory: import the CA that signed them.'
            : 'Only needed for devices with factory certificates; an administrator imports them.',
        }}
      >
        <ListTable
          label="Auth certs"
          columns={['Name', 'Batch', 'Rule', 'Not before', 'Not after', 'Status']}
          actions="hidden"
          minWidth={900}
        >
          {items.map((c) => (
            <Table.Tr key={c.id} data-testid={`auth-cert-${c.name}`}>
              <Table.Td>
                <Text size="sm" fw={500}>
                  {c.name}
                </Text>
                <Text size="xs" c="dimmed">
                  {c.subject}
                </Text>
                <Code fz="xs" title="SHA-256 fingerprint">
                  {c.fingerprint.slice(0, 16)}…
                </Code>
              </Table.Td>
              <Table.Td>{batchName(c.batchId)}</Table.Td>
              <Table.Td>{RULES[c.rule]}</Table.Td>
              <Table.Td>{formatTime(c.notBefore)}</Table.Td>
              <Table.Td>{formatTime(c.notAfter)}</Table.Td>
              <Table.Td>
                <Badge
                  color={c.status === 'valid' ? 'green.9' : 'red.9'}
                  style={{ minWidth: 'max-content' }}
                >
                  {c.status}
                </Badge>
              </Table.Td>
              <Table.Td>
                <Group gap={4} wrap="nowrap" justify="flex-end">
                  <Tooltip label="Download PEM">
                    <ActionIcon
                      variant="subtle"
                      aria-label={`Download ${c.name}`}
                      onClick={() =>
                        void download(`/auth-certs/${c.id}/pem`, `auth-cert-${slug(c.name)}.pem`)
                      }
                    >
                      <IconDownload size={18} aria-hidden />
                    </ActionIcon>
                  </Tooltip>
                  {admin && (
                    <Tooltip label="Delete">
                      <ActionIcon
                        variant="subtle"
                        color="red"
                        aria-label={`Delete ${c.name}`}
                        onClick={() => setRemoving(c)}
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
        opened={importing}
        onClose={() => setImporting(false)}
        title="Import auth cert"
        size="lg"
      >
        {importing && (
          <AuthCertForm
            batches={batches.data?.items ?? []}
            onCancel={() => setImporting(false)}
            onSaved={(c) => {
              setImporting(false);
              notifySuccess(`${c.name} is imported.`);
              reload();
            }}
          />
        )}
      </Modal>
      <ConfirmDialog
        opened={!!removing}
        title="Delete auth cert"
        onClose={() => setRemoving(undefined)}
        onConfirm={() => api.delete(`/auth-certs/${removing?.id ?? ''}`)}
        onDone={() => {
          notifySuccess('The auth cert is deleted.');
          reload();
        }}
      >
        Delete <b>{removing?.name}</b>? Devices with certificates from this CA can no longer enrol;
        devices already enrolled keep their certificates.
      </ConfirmDialog>
    </>
  );
}
