import { Button, Group, Paper, SimpleGrid, Text, Title } from '@mantine/core';
import { Link } from 'react-router';
import { useApiQuery } from '../api/use-api-query';
import { ProblemAlert } from '../components/problem-alert';
import { issuingCounts } from '../hsm/hsm-fns';
import type { CaCertificate, CaStatus } from '../hsm/hsm-types';

const TILES: { status: CaStatus; label: string; colour: string }[] = [
  { status: 'valid', label: 'Valid', colour: 'green.8' },
  { status: 'expired', label: 'Expired', colour: 'red.8' },
  { status: 'not used', label: 'Not used', colour: 'gray.6' },
];

/**
 * Issuing certificate figures (W1): how many issuing CAs are valid, expired or not used yet,
 * as the PKI listing states them, with the way to the HSM screen.
 */
export function CertificateStatus() {
  const { data, error } = useApiQuery<{ certificates: CaCertificate[] }>('/pki/certificates', {
    kind: 'issuing',
  });
  const counts = data ? issuingCounts(data.certificates) : undefined;
  return (
    <section aria-labelledby="certificate-status">
      <Group justify="space-between" mb="sm">
        <Title order={2} size="h4" id="certificate-status">
          Issuing certificates
        </Title>
        <Button component={Link} to="/hsm" variant="default">
          Go to HSM
        </Button>
      </Group>
      <ProblemAlert error={error} title="Certificate figures could not be loaded" />
      {counts && (
        <SimpleGrid cols={{ base: 1, xs: 3 }} spacing="md">
          {TILES.map((t) => (
            <Paper
              key={t.status}
              withBorder
              p="md"
              radius="md"
              style={{ borderLeft: `4px solid var(--mantine-color-${t.colour.replace('.', '-')})` }}
            >
              <Text size="sm" c="dimmed">
                {t.label}
              </Text>
              <Text fz={28} fw={700} data-testid={`issuing-${t.status.replace(' ', '-')}`}>
                {counts[t.status]}
              </Text>
            </Paper>
          ))}
        </SimpleGrid>
      )}
    </section>
  );
}
