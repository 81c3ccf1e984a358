import { SimpleGrid, Skeleton, Stack, Text, Title } from '@mantine/core';
import { PageHeader } from '../components/page-header';
import { HubStatusTile } from '../hubs/hub-status-tile';
import { CertificateStatus } from './certificate-status';
import { DeviceStatus } from './device-status';
import { LastActivity } from './last-activity';
import { StatusTileButton } from './status-tile';
import { readinessTiles } from './status-fns';
import { useReadiness } from './use-readiness';

/**
 * The dashboard (W1). Only figures the server can give are shown: no made-up numbers. A new
 * area's tile is a section component added to this page (see docs/console.md).
 */
export function DashboardPage() {
  const { result, checkedAt, refreshing, refresh } = useReadiness();
  const tiles = result ? readinessTiles(result) : undefined;

  return (
    <>
      <PageHeader title="Dashboard" description="The state of this instance at a glance." />
      <Stack gap="xl">
        <section aria-labelledby="global-status">
          <Title order={2} size="h4" id="global-status" mb="sm">
            Global status
          </Title>
          <SimpleGrid cols={{ base: 1, xs: 2, md: 4 }} spacing="md">
            {tiles
              ? tiles.map((t) => (
                  <StatusTileButton
                    key={t.key}
                    tile={t}
                    checkedAt={checkedAt}
                    refreshing={refreshing}
                    onRefresh={() => void refresh()}
                  />
                ))
              : [0, 1, 2].map((i) => <Skeleton key={i} height={92} radius="md" />)}
            <HubStatusTile />
          </SimpleGrid>
          <Text size="xs" c="dimmed" mt="xs" aria-live="polite">
            {checkedAt ? `Last checked at ${checkedAt.toLocaleTimeString()}.` : 'Checking…'}
          </Text>
        </section>
        <DeviceStatus />
        <CertificateStatus />
        <LastActivity />
      </Stack>
    </>
  );
}
