import { Badge, Group, Paper, SimpleGrid, Stack, Text } from '@mantine/core';
import { PageHeader } from '../components/page-header';
import { useSession } from '../session/session-context';
import { ApiTokensPanel } from './api-tokens-panel';
import { PasswordPanel } from './password-panel';
import { RecoveryCodesPanel } from './recovery-codes-panel';

/** The signed-in user's own account: who they are, API tokens, password, recovery codes. */
export function AccountPage() {
  const { user } = useSession();
  if (!user) return null;
  return (
    <>
      <PageHeader title="My account" />
      <Stack>
        <Paper withBorder p="md">
          <Group gap="xl">
            <Text>
              <Text span fw={600}>
                {user.username}
              </Text>{' '}
              ({user.firstName} {user.lastName}, {user.email})
            </Text>
            <Badge color="blue.9">{user.role}</Badge>
            <Badge color={user.twoFactorEnabled ? 'green.9' : 'orange.9'}>
              two-factor {user.twoFactorEnabled ? 'on' : 'off'}
            </Badge>
          </Group>
        </Paper>
        <ApiTokensPanel />
        <SimpleGrid cols={{ base: 1, md: 2 }}>
          <PasswordPanel username={user.username} />
          {user.twoFactorEnabled && <RecoveryCodesPanel username={user.username} />}
        </SimpleGrid>
      </Stack>
    </>
  );
}
