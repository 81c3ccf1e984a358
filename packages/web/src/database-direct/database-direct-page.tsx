import { Anchor, Badge, Button, Group, Modal, Table, Text, Tooltip } from '@mantine/core';
import { IconDatabase, IconDownload, IconPlus } from '@tabler/icons-react';
import { useState } from 'react';
import { useApi } from '../api/api-context';
import { apiUrl } from '../api/api-client';
import { useApiQuery } from '../api/use-api-query';
import { ConfirmDialog } from '../components/confirm-dialog';
import { notifySuccess } from '../components/notify';
import { PageHeader } from '../components/page-header';
import { ListSection } from '../components/list-section';
import { ListTable } from '../components/list-table';
import { useDownload } from '../hsm/use-download';
import { useIsAdministrator } from '../session/use-is-administrator';
import { ConnectionForm } from './connection-form';
import { credentialsState, publicKeyFileName } from './database-direct-fns';
import { DATABASE_TYPE_LABELS, type DatabaseConnection } from './database-direct-types';
import { DeleteAction, EditAction } from '../components/row-actions';

type Dialog =
  { kind: 'create' } | { kind: 'edit' | 'delete'; connection: DatabaseConnection } | undefined;

const COLUMNS = ['Name', 'Type', 'URL', 'Database', 'Data source', 'TLS', 'Credentials'];

/**
 * Database Direct (D2): the databases that devices of a database-direct policy write to with
 * short-lived tokens, each with the public key that verifies those tokens. Administrators add,
 * change and delete connections; contributors read them. Nobody ever sees the login.
 */
export function DatabaseDirectPage() {
  const api = useApi();
  const admin = useIsAdministrator();
  const download = useDownload();
  const { data, error, loading, reload } = useApiQuery<{ items: DatabaseConnection[] }>(
    '/database-connections',
  );
  const [dialog, setDialog] = useState<Dialog>();
  const close = () => setDialog(undefined);
  const items = data?.items ?? [];

  const add = admin && (
    <Button
      leftSection={<IconPlus size={18} aria-hidden />}
      onClick={() => setDialog({ kind: 'create' })}
    >
      Add connection
    </Button>
  );

  return (
    <>
      <PageHeader
        title="Database Direct"
        description="Databases that devices write to directly, with short-lived tokens signed by this instance."
        actions={items.length > 0 && add}
      />
      <ListSection
        error={error}
        errorTitle="Connections cannot be shown"
        loading={loading}
        loadingLabel="Loading connections"
        items={data?.items}
        empty={{
          icon: <IconDatabase size={32} aria-hidden />,
          title: 'No database direct connections yet',
          description: admin
            ? 'Add a connection (a PostgreSQL or MariaDB database and a login that may create tables and insert rows), then choose it in a policy whose connection type is database direct.'
            : 'An administrator adds database direct connections; they will be listed here.',
          action: add,
        }}
      >
        <ListTable
          label="Database direct connections"
          columns={[...COLUMNS, 'Public key']}
          actions={admin ? 'shown' : undefined}
          minWidth={980}
          highlightOnHover
        >
          {items.map((c) => {
            const creds = credentialsState(c);
            return (
              <Table.Tr key={c.id} data-testid={`connection-${c.name}`}>
                <Table.Td fw={500}>{c.name}</Table.Td>
                <Table.Td>{DATABASE_TYPE_LABELS[c.type] ?? c.type}</Table.Td>
                <Table.Td>
                  <Text size="sm" ff="monospace">
                    {c.url}
                  </Text>
                </Table.Td>
                <Table.Td>{c.database}</Table.Td>
                <Table.Td>{c.dataSource ?? '—'}</Table.Td>
                <Table.Td>
                  {c.tls ? (c.caCertificate ? 'on, own CA' : 'on, system roots') : 'off'}
                </Table.Td>
                <Table.Td>
                  <Badge
                    color={creds === 'set' ? 'green.9' : 'red.9'}
                    style={{ minWidth: 'max-content' }}
                  >
                    {creds}
                  </Badge>
                </Table.Td>
                <Table.Td>
                  <Group gap="xs" wrap="nowrap">
                    <Button
                      size="xs"
                      variant="default"
                      leftSection={<IconDownload size={14} aria-hidden />}
                      aria-label={`Download public key of ${c.name}`}
                      onClick={() =>
                        void download(
                          `/database-connections/${c.id}/public-key`,
                          publicKeyFileName(c.name),
                        )
                      }
                    >
                      PEM
                    </Button>
                    <Tooltip
                      label={`Public, without sign-in, on the device port: ${c.jwksPath}`}
                      multiline
                      w={320}
                    >
                      <Anchor
                        size="sm"
                        href={apiUrl(`/database-connections/${c.id}/jwks`)}
                        target="_blank"
                        rel="noopener"
                        aria-label={`JWKS of ${c.name}`}
                      >
                        JWKS
                      </Anchor>
                    </Tooltip>
                  </Group>
                </Table.Td>
                {admin && (
                  <Table.Td>
                    <Group gap={4} wrap="nowrap" justify="flex-end">
                      <EditAction
                        name={c.name}
                        onClick={() => setDialog({ kind: 'edit', connection: c })}
                      />
                      <DeleteAction
                        name={c.name}
                        onClick={() => setDialog({ kind: 'delete', connection: c })}
                      />
                    </Group>
                  </Table.Td>
                )}
              </Table.Tr>
            );
          })}
        </ListTable>
        <Text size="xs" c="dimmed" mt="xs" px="xs">
          The public key verifies the tokens devices present; a database service can fetch it as a
          JWKS. The login is write-only and never shown.
        </Text>
      </ListSection>
      <Modal
        opened={dialog?.kind === 'create' || dialog?.kind === 'edit'}
        onClose={close}
        closeOnClickOutside={false}
        title={
          dialog?.kind === 'edit'
            ? `Edit connection ${dialog.connection.name}`
            : 'Add database direct connection'
        }
        size="xl"
      >
        {(dialog?.kind === 'create' || dialog?.kind === 'edit') && (
          <ConnectionForm
            connection={dialog.kind === 'edit' ? dialog.connection : undefined}
            onCancel={close}
            onSaved={(c) => {
              close();
              notifySuccess(`Connection ${c.name} is saved.`);
              reload();
            }}
          />
        )}
      </Modal>
      <ConfirmDialog
        opened={dialog?.kind === 'delete'}
        title="Delete connection"
        onClose={close}
        onConfirm={() =>
          api.delete(
            `/database-connections/${dialog?.kind === 'delete' ? dialog.connection.id : ''}`,
          )
        }
        onDone={() => {
          notifySuccess('The connection is deleted.');
          reload();
        }}
      >
        Delete connection <b>{dialog?.kind === 'delete' ? dialog.connection.name : ''}</b>? Its
        signing key is deleted too, and every token it signed stops working. A connection that a
        policy uses cannot be deleted.
      </ConfirmDialog>
    </>
  );
}
