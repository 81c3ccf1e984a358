import {
  ActionIcon,
  Badge,
  Button,
  EmptyState,
  Group,
  Loader,
  Menu,
  Modal,
  Paper,
  Stack,
  Table,
  Text,
  VisuallyHidden,
} from '@mantine/core';
import { IconDots, IconUserPlus, IconUsers } from '@tabler/icons-react';
import { useState } from 'react';
import { useApi } from '../api/api-context';
import { useApiQuery } from '../api/use-api-query';
import { PageHeader } from '../components/page-header';
import { ProblemAlert } from '../components/problem-alert';
import { notifyError, notifySuccess } from '../components/notify';
import { formatTime } from '../logs/audit-fns';
import { useSession, type SessionUser as User } from '../session/session-context';
import { UserForm } from './user-form';

/** Badges keep their whole word: a narrow table must not cut "Disabled" to "Dis…". */
const fit = { minWidth: 'max-content' } as const;

function twoFactorBadge(u: User) {
  if (!u.twoFactorEnabled) {
    return (
      <Badge color="orange.9" style={fit}>
        Off
      </Badge>
    );
  }
  return u.twoFactorEnrolled ? (
    <Badge color="green.9" style={fit}>
      On
    </Badge>
  ) : (
    <Badge color="gray.7" style={fit} title="The user enrols an app at their next sign-in">
      Not enrolled
    </Badge>
  );
}

type Dialog =
  { kind: 'create' } | { kind: 'edit'; user: User } | { kind: 'delete'; user: User } | undefined;

/**
 * Users (administrators only; the server refuses the list to anyone else, and this screen then
 * shows its refusal). Create, edit, disable, reset a lost authenticator, delete.
 */
export function UsersPage() {
  const api = useApi();
  const { user: me } = useSession();
  const { data, error, loading, reload } = useApiQuery<{ users: User[] }>('/users');
  const [dialog, setDialog] = useState<Dialog>();
  const [busy, setBusy] = useState(false);

  const act = async (what: () => Promise<unknown>, done: string) => {
    setBusy(true);
    try {
      await what();
      notifySuccess(done);
      reload();
    } catch (err) {
      notifyError(err);
    } finally {
      setBusy(false);
    }
  };

  const rows = (data?.users ?? []).map((u) => (
    <Table.Tr key={u.id} data-testid={`user-${u.username}`}>
      <Table.Td style={{ whiteSpace: 'nowrap' }}>
        <Text fw={500}>{u.username}</Text>
        {u.id === me?.id && (
          <Text size="xs" c="dimmed">
            you
          </Text>
        )}
      </Table.Td>
      <Table.Td>
        {u.firstName} {u.lastName}
      </Table.Td>
      <Table.Td>{u.email}</Table.Td>
      <Table.Td>{u.role === 'administrator' ? 'Administrator' : 'Contributor'}</Table.Td>
      <Table.Td>{twoFactorBadge(u)}</Table.Td>
      <Table.Td>
        {u.disabled ? (
          <Badge color="red.9" style={fit}>
            Disabled
          </Badge>
        ) : (
          <Badge color="green.9" style={fit}>
            Active
          </Badge>
        )}
      </Table.Td>
      <Table.Td>{u.lastLoginAt ? formatTime(u.lastLoginAt) : 'Never'}</Table.Td>
      <Table.Td>{formatTime(u.createdAt)}</Table.Td>
      <Table.Td>
        <Menu position="bottom-end">
          <Menu.Target>
            <ActionIcon variant="subtle" aria-label={`Actions for ${u.username}`} disabled={busy}>
              <IconDots size={18} aria-hidden />
            </ActionIcon>
          </Menu.Target>
          <Menu.Dropdown>
            <Menu.Item onClick={() => setDialog({ kind: 'edit', user: u })}>Edit</Menu.Item>
            <Menu.Item
              onClick={() =>
                void act(
                  () => api.patch(`/users/${u.id}`, { disabled: !u.disabled }),
                  `${u.username} is ${u.disabled ? 'enabled' : 'disabled'}.`,
                )
              }
            >
              {u.disabled ? 'Enable' : 'Disable'}
            </Menu.Item>
            {u.twoFactorEnrolled && (
              <Menu.Item
                onClick={() =>
                  void act(
                    () => api.post(`/users/${u.id}/two-factor/reset`),
                    `${u.username} enrols a new authenticator at their next sign-in.`,
                  )
                }
              >
                Reset authenticator
              </Menu.Item>
            )}
            <Menu.Divider />
            <Menu.Item color="red" onClick={() => setDialog({ kind: 'delete', user: u })}>
              Delete
            </Menu.Item>
          </Menu.Dropdown>
        </Menu>
      </Table.Td>
    </Table.Tr>
  ));

  return (
    <>
      <PageHeader
        title="Users"
        description="Who may use this instance, with which role and second factor."
        actions={
          !error && (
            <Button
              leftSection={<IconUserPlus size={18} aria-hidden />}
              onClick={() => setDialog({ kind: 'create' })}
            >
              Create user
            </Button>
          )
        }
      />
      <Stack>
        <ProblemAlert error={error} title="Users cannot be shown" />
        {loading && !data && <Loader aria-label="Loading users" />}
        {data && data.users.length === 0 && (
          <Paper withBorder p="xl">
            <EmptyState
              icon={<IconUsers size={32} aria-hidden />}
              withIndicatorBackground
              title="No users yet"
              description="Create a user for each person who works on this instance."
            />
          </Paper>
        )}
        {data && data.users.length > 0 && (
          <Paper withBorder p="xs">
            <Table.ScrollContainer minWidth={900}>
              <Table striped highlightOnHover aria-label="Users">
                <Table.Thead>
                  <Table.Tr>
                    {[
                      'Username',
                      'Name',
                      'Email',
                      'Role',
                      'Two-factor',
                      'Status',
                      'Last sign-in',
                      'Created',
                    ].map((h) => (
                      <Table.Th key={h} scope="col">
                        {h}
                      </Table.Th>
                    ))}
                    <Table.Th scope="col">
                      <VisuallyHidden>Actions</VisuallyHidden>
                    </Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>{rows}</Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          </Paper>
        )}
      </Stack>
      <Modal
        opened={dialog?.kind === 'create' || dialog?.kind === 'edit'}
        onClose={() => setDialog(undefined)}
        title={dialog?.kind === 'edit' ? `Edit ${dialog.user.username}` : 'Create user'}
        size="lg"
      >
        {(dialog?.kind === 'create' || dialog?.kind === 'edit') && (
          <UserForm
            user={dialog.kind === 'edit' ? dialog.user : undefined}
            onCancel={() => setDialog(undefined)}
            onSaved={(u) => {
              setDialog(undefined);
              notifySuccess(`${u.username} is saved.`);
              reload();
            }}
          />
        )}
      </Modal>
      <Modal
        opened={dialog?.kind === 'delete'}
        onClose={() => setDialog(undefined)}
        title="Delete user"
      >
        {dialog?.kind === 'delete' && (
          <Stack>
            <Text>
              Delete <b>{dialog.user.username}</b>? Their sessions and API tokens end at once. Log
              entries about them stay.
            </Text>
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setDialog(undefined)}>
                Cancel
              </Button>
              <Button
                color="red"
                loading={busy}
                onClick={() => {
                  const u = dialog.user;
                  setDialog(undefined);
                  void act(() => api.delete(`/users/${u.id}`), `${u.username} is deleted.`);
                }}
              >
                Delete
              </Button>
            </Group>
          </Stack>
        )}
      </Modal>
    </>
  );
}
