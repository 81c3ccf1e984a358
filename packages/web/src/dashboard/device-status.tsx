import { DonutChart } from '@mantine/charts';
import { Button, Group, Paper, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { Link } from 'react-router';
import { useApiQuery } from '../api/use-api-query';
import { ProblemAlert } from '../components/problem-alert';
import { deviceSegments, deviceTotals, type BatchCounts } from './device-fns';

function Figure({ label, value, testId }: { label: string; value: number; testId: string }) {
  return (
    <Paper withBorder p="md" radius="md">
      <Text size="sm" c="dimmed">
        {label}
      </Text>
      <Text fz={28} fw={700} data-testid={testId}>
        {value}
      </Text>
    </Paper>
  );
}

/**
 * Device figures (W1): enrolled, renewed, revoked and expired, and a donut of the total, summed
 * from the batches. With no device registered yet, it says how to register some.
 */
export function DeviceStatus() {
  const { data, error } = useApiQuery<{ items: { counts: BatchCounts }[] }>('/batches');
  const totals = data ? deviceTotals(data.items) : undefined;
  const segments = totals ? deviceSegments(totals) : [];
  return (
    <section aria-labelledby="device-status">
      <Group justify="space-between" mb="sm">
        <Title order={2} size="h4" id="device-status">
          Devices
        </Title>
        <Button component={Link} to="/devices" variant="default">
          Go to Devices
        </Button>
      </Group>
      <ProblemAlert error={error} title="Device figures could not be loaded" />
      {totals && totals.devices === 0 && (
        <Paper withBorder p="md">
          <Text size="sm" data-testid="devices-empty">
            No device is registered yet. Create a policy, then a batch on the Devices screen, and
            add device IDs to the batch one by one or as a file; devices enrol against their batch.
          </Text>
        </Paper>
      )}
      {totals && totals.devices > 0 && (
        <Group align="center" gap="md" wrap="wrap">
          <SimpleGrid cols={{ base: 2, md: 4 }} spacing="md" style={{ flex: '1 1 420px' }}>
            <Figure label="Enrolled" value={totals.enrolled} testId="devices-enrolled" />
            <Figure label="Renewed" value={totals.renewed} testId="devices-renewed" />
            <Figure label="Revoked" value={totals.revoked} testId="devices-revoked" />
            <Figure label="Expired" value={totals.expired} testId="devices-expired" />
          </SimpleGrid>
          <Paper withBorder p="md" radius="md">
            <Stack gap={4} align="center">
              <div
                role="img"
                aria-label={`Device status: ${segments
                  .map((s) => `${s.name} ${s.value}`)
                  .join(', ')}; ${totals.devices} in total`}
              >
                <DonutChart
                  data={segments}
                  // One segment is a full ring: no gap or seam where it starts.
                  paddingAngle={segments.length > 1 ? 2 : 0}
                  strokeWidth={segments.length > 1 ? 1 : 0}
                  size={120}
                  thickness={18}
                  chartLabel={totals.devices}
                  withTooltip
                  tooltipDataSource="segment"
                />
              </div>
              <Text size="xs" c="dimmed" data-testid="devices-total">
                {totals.devices} devices in total, {totals.waiting} not enrolled yet
              </Text>
            </Stack>
          </Paper>
        </Group>
      )}
    </section>
  );
}
