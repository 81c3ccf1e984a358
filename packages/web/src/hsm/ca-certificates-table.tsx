import { Button, Code, Group, Table, Text } from '@mantine/core';
import { IconDownload } from '@tabler/icons-react';
import { ListTable } from '../components/list-table';
import { formatTime } from '../logs/audit-fns';
import { CaStatusBadge } from './ca-status-badge';
import { certificateFileName } from './hsm-fns';
import type { CaCertificate } from './hsm-types';
import { useDownload } from './use-download';

/**
 * Root, issuing or TLS certificates: status (valid, expired, not used), validity, key type,
 * and the PEM of each, alone or with its chain up to the root.
 */
export function CaCertificatesTable({
  certs,
  label,
  issuing = false,
}: {
  certs: CaCertificate[];
  label: string;
  /** Issuing CAs also show how many device certificates they issued and their renewal. */
  issuing?: boolean;
}) {
  const download = useDownload();
  const pem = (c: CaCertificate, chain: boolean) =>
    void download(`/pki/certificates/${c.id}/pem`, certificateFileName(c, chain), {
      chain: String(chain),
    });
  const heads = ['Name', 'Status', 'Not before', 'Not after', 'Key type'];
  if (issuing) heads.push('Issued', 'Auto-renew');
  heads.push('Download PEM');
  return (
    <ListTable label={label} columns={heads} minWidth={900}>
      {certs.map((c) => (
        <Table.Tr key={c.id} data-testid={`ca-${c.name}`}>
          <Table.Td>
            <Text size="sm" fw={500}>
              {c.name}
            </Text>
            <Text size="xs" c="dimmed" title={c.subject}>
              serial <Code fz="xs">{c.serial.slice(0, 16)}</Code>
              {c.retiredAt ? ' · retired' : ''}
            </Text>
          </Table.Td>
          <Table.Td>
            <CaStatusBadge status={c.status} />
          </Table.Td>
          <Table.Td>{formatTime(c.notBefore)}</Table.Td>
          <Table.Td>{formatTime(c.notAfter)}</Table.Td>
          <Table.Td>{c.keyType}</Table.Td>
          {issuing && <Table.Td>{c.issuedCount}</Table.Td>}
          {issuing && (
            <Table.Td>
              {c.autoRenew ? (c.renewAt ? `from ${formatTime(c.renewAt)}` : 'on') : 'off'}
            </Table.Td>
          )}
          <Table.Td>
            <Group gap={6} wrap="nowrap">
              <Button
                size="xs"
                variant="default"
                leftSection={<IconDownload size={14} aria-hidden />}
                aria-label={`Download certificate ${c.name}`}
                onClick={() => pem(c, false)}
              >
                Certificate
              </Button>
              {c.kind !== 'root' && (
                <Button
                  size="xs"
                  variant="default"
                  leftSection={<IconDownload size={14} aria-hidden />}
                  aria-label={`Download certificate ${c.name} with its chain`}
                  onClick={() => pem(c, true)}
                >
                  With chain
                </Button>
              )}
            </Group>
          </Table.Td>
        </Table.Tr>
      ))}
    </ListTable>
  );
}
