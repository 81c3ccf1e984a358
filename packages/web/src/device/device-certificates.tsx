import { ActionIcon, Badge, Code, Group, Table, Text, Tooltip } from '@mantine/core';
import { IconDownload, IconLink } from '@tabler/icons-react';
import { useDownload } from '../hsm/use-download';
import { formatTime } from '../logs/audit-fns';
import { formatSerial } from './device-fns';
import type { DeviceCertificate } from './device-types';

const STATUS_COLOURS = { valid: 'green.9', expired: 'dark.5', revoked: 'red.9' } as const;

/** The certificates issued to a device, newest first, each downloadable alone or with its chain. */
export function DeviceCertificates({
  deviceId,
  certificates,
}: {
  deviceId: string;
  certificates: DeviceCertificate[];
}) {
  const download = useDownload();
  if (certificates.length === 0)
    return (
      <Text size="sm" c="dimmed">
        No certificate yet: the device gets one when it enrols.
      </Text>
    );
  const short = deviceId.slice(0, 12);
  return (
    <Table.ScrollContainer minWidth={760}>
      <Table striped aria-label="Certificates of the device">
        <Table.Thead>
          <Table.Tr>
            {['Serial', 'Status', 'Valid from', 'Valid until', 'Revocation'].map((h) => (
              <Table.Th key={h} scope="col">
                {h}
              </Table.Th>
            ))}
            <Table.Th scope="col">Download</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {certificates.map((c) => (
            <Table.Tr key={c.id} data-testid={`certificate-${c.serial}`}>
              <Table.Td>
                <Code fz="xs" style={{ wordBreak: 'break-all' }}>
                  {formatSerial(c.serial)}
                </Code>
                {c.current && (
                  <Text size="xs" c="dimmed">
                    current
                  </Text>
                )}
              </Table.Td>
              <Table.Td>
                <Badge color={STATUS_COLOURS[c.status]} style={{ minWidth: 'max-content' }}>
                  {c.status}
                </Badge>
              </Table.Td>
              <Table.Td>{formatTime(c.notBefore)}</Table.Td>
              <Table.Td>{formatTime(c.notAfter)}</Table.Td>
              <Table.Td>
                {c.revokedAt ? `${c.revocationReason ?? ''} ${formatTime(c.revokedAt)}` : '—'}
              </Table.Td>
              <Table.Td>
                <Group gap={4} wrap="nowrap">
                  <Tooltip label="Certificate (PEM)">
                    <ActionIcon
                      variant="subtle"
                      aria-label={`Download certificate ${c.serial}`}
                      onClick={() =>
                        void download(
                          `/pki/device-certificates/${c.id}/pem`,
                          `device-${short}-${c.serial.slice(0, 8)}.pem`,
                          { chain: 'false' },
                        )
                      }
                    >
                      <IconDownload size={18} aria-hidden />
                    </ActionIcon>
                  </Tooltip>
                  <Tooltip label="With its issuing CA and root">
                    <ActionIcon
                      variant="subtle"
                      aria-label={`Download certificate ${c.serial} with its chain`}
                      onClick={() =>
                        void download(
                          `/pki/device-certificates/${c.id}/pem`,
                          `device-${short}-${c.serial.slice(0, 8)}-chain.pem`,
                          { chain: 'true' },
                        )
                      }
                    >
                      <IconLink size={18} aria-hidden />
                    </ActionIcon>
                  </Tooltip>
                </Group>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
