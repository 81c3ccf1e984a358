import {
  Alert,
  Badge,
  Button,
  Code,
  CopyButton,
  Group,
  Modal,
  NumberInput,
  Paper,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useState } from 'react';
import type { ApiError } from '../api/api-client';
import { useApi } from '../api/api-context';
import { formProblem } from '../api/form-problems';
import { useApiQuery } from '../api/use-api-query';
import { notifyError, notifySuccess } from '../components/notify';
import { ProblemAlert } from '../components/problem-alert';
import { formatTime } from '../logs/audit-fns';

/** An API token as listed (packages/server/src/auth/token-routes.ts); never the secret. */
interface ApiToken {
  id: string;
  name: string;
  hint: string;
  status: 'active' | 'expired' | 'revoked';
  createdAt: string;
  expiresAt: string;
  lastUsedAt: string | null;
}

const STATUS_COLOUR = { active: 'green.9', expired: 'gray.7', revoked: 'red.9' } as const;

function CreateTokenForm({ onCreated }: { onCreated: (token: string) => void }) {
  const api = useApi();
  const [error, setError] = useState<ApiError>();
  const form = useForm({
    initialValues: { name: '', expiresInDays: 90 as number | string },
    validate: {
      name: (v) =>
        !v.trim()
          ? 'Name the token after what uses it'
          : v.length > 100
            ? 'Use at most 100 characters'
            : null,
      expiresInDays: (v) =>
        Number.isInteger(Number(v)) && Number(v) >= 1 && Number(v) <= 3650
          ? null
          : 'Between 1 and 3650 days',
    },
  });
  const submit = form.onSubmit(async (v) => {
    setError(undefined);
    try {
      const res = await api.post<{ token: string }>('/tokens', {
        name: v.name.trim(),
        expiresInDays: Number(v.expiresInDays),
      });
      form.reset();
      onCreated(res.token);
    } catch (err) {
      const p = formProblem(err, ['name', 'expiresInDays']);
      form.setErrors(p.byField);
      setError(p.error);
    }
  });
  return (
    <form onSubmit={submit} noValidate aria-label="Create an API token">
      <Stack gap="xs">
        <ProblemAlert error={error} title="The token was not created" />
        <Group align="flex-start">
          <TextInput
            label="Token name"
            placeholder="e.g. CI pipeline"
            w={260}
            {...form.getInputProps('name')}
          />
          <NumberInput
            label="Valid for (days)"
            min={1}
            max={3650}
            w={150}
            {...form.getInputProps('expiresInDays')}
          />
          <Button type="submit" mt={25} loading={form.submitting}>
            Create token
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

/**
 * The user's own API tokens (U4): automation acts with the owner's role. A new token is shown
 * once, in a dialog; the list shows only its last four characters.
 */
export function ApiTokensPanel() {
  const api = useApi();
  const { data, error, reload } = useApiQuery<{ tokens: ApiToken[] }>('/tokens', { mine: true });
  const [shown, setShown] = useState<string>();
  const [revoking, setRevoking] = useState<ApiToken>();

  const revoke = async (t: ApiToken) => {
    setRevoking(undefined);
    try {
      await api.delete(`/tokens/${t.id}`);
      notifySuccess(`${t.name} is revoked.`);
      reload();
    } catch (err) {
      notifyError(err);
    }
  };

  return (
    <Paper withBorder p="md" component="section" aria-labelledby="api-tokens">
      <Title order={2} size="h4" id="api-tokens" mb="xs">
        API tokens
      </Title>
      <Text size="sm" c="dimmed" mb="md">
        For scripts and automation: send <Code>Authorization: Bearer &lt;token&gt;</Code>. A token
        acts with your role and ends when it expires, is revoked, or your account is disabled.
      </Text>
      <CreateTokenForm
        onCreated={(t) => {
          setShown(t);
          reload();
        }}
      />
      <ProblemAlert error={error} title="Tokens cannot be shown" />
      {data && data.tokens.length === 0 && (
        <Text size="sm" c="dimmed" mt="md">
          You have no API tokens. Create one above for each script or system that calls the API.
        </Text>
      )}
      {data && data.tokens.length > 0 && (
        <Table.ScrollContainer minWidth={640} mt="md">
          <Table aria-label="My API tokens" striped>
            <Table.Thead>
              <Table.Tr>
                {['Name', 'Ends with', 'Status', 'Created', 'Expires', 'Last used', ''].map((h) => (
                  <Table.Th key={h || 'actions'} scope="col">
                    {h}
                  </Table.Th>
                ))}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {data.tokens.map((t) => (
                <Table.Tr key={t.id} data-testid={`token-${t.name}`}>
                  <Table.Td>{t.name}</Table.Td>
                  <Table.Td>
                    <Code>…{t.hint}</Code>
                  </Table.Td>
                  <Table.Td>
                    <Badge color={STATUS_COLOUR[t.status]} style={{ minWidth: 'max-content' }}>
                      {t.status}
                    </Badge>
                  </Table.Td>
                  <Table.Td>{formatTime(t.createdAt)}</Table.Td>
                  <Table.Td>{formatTime(t.expiresAt)}</Table.Td>
                  <Table.Td>{t.lastUsedAt ? formatTime(t.lastUsedAt) : 'Never'}</Table.Td>
                  <Table.Td>
                    {t.status === 'active' && (
                      <Button
                        size="xs"
                        variant="default"
                        color="red"
                        aria-label={`Revoke ${t.name}`}
                        onClick={() => setRevoking(t)}
                      >
                        Revoke
                      </Button>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <Modal
        opened={!!shown}
        onClose={() => setShown(undefined)}
        title="Your new API token"
        size="lg"
      >
        <Stack>
          <Alert color="orange" variant="light">
            Copy it now: it is shown only this once, and the server keeps only its hash.
          </Alert>
          <Code block data-testid="new-api-token">
            {shown}
          </Code>
          <Group justify="flex-end">
            <CopyButton value={shown ?? ''}>
              {({ copied, copy }) => (
                <Button variant="default" onClick={copy}>
                  {copied ? 'Copied' : 'Copy'}
                </Button>
              )}
            </CopyButton>
            <Button onClick={() => setShown(undefined)}>Done</Button>
          </Group>
        </Stack>
      </Modal>
      <Modal opened={!!revoking} onClose={() => setRevoking(undefined)} title="Revoke API token">
        <Stack>
          <Text>
            Revoke <b>{revoking?.name}</b>? Anything using it is refused from its next request.
          </Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setRevoking(undefined)}>
              Cancel
            </Button>
            <Button color="red" onClick={() => revoking && void revoke(revoking)}>
              Revoke
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Paper>
  );
}
