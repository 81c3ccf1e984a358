import { Badge, Group, Table, Text, VisuallyHidden } from '@mantine/core';
import type { CaCertificate } from '../hsm/hsm-types';
import { CaStatusBadge } from '../hsm/ca-status-badge';
import { formatDuration } from './duration-fns';
import { CONNECTION_LABELS, KEY_TYPE_LABELS, type Policy } from './policy-types';
import { DeleteAction, EditAction } from '../components/row-actions';

function IssuingCa({ policy, cas }: { policy: Policy; cas: CaCertificate[] }) {
  const { lifetime, keyType, autoRenew } = policy.issuingCertificate;
  const ca = cas.find((c) => c.id === policy.issuingCaId);
  return (
    <>
      <Text size="sm">
        {KEY_TYPE_LABELS[keyType]}, {formatDuration(lifetime)}
        {autoRenew ? ', auto-renew' : ''}
      </Text>
      {ca ? (
        <Group gap={6}>
          <Text size="xs">{ca.name}</Text>
          <CaStatusBadge status={ca.status} />
        </Group>
      ) : (
        <Text size="xs" c="dimmed">
          No issuing CA made for it yet
        </Text>
      )}
    </>
  );
}

/** The policies with what matters when choosing one for a batch; edit and delete per row. */
export function PoliciesTable({
  policies,
  cas,
  onEdit,
  onDelete,
}: {
  policies: Policy[];
  cas: CaCertificate[];
  onEdit: (p: Policy) => void;
  onDelete: (p: Policy) => void;
}) {
  return (
    <Table.ScrollContainer minWidth={860}>
      <Table striped highlightOnHover aria-label="Policies">
        <Table.Thead>
          <Table.Tr>
            {['Name', 'Connection', 'Device lifetime', 'Key types', 'Issuing CA'].map((h) => (
              <Table.Th key={h} scope="col">
                {h}
              </Table.Th>
            ))}
            <Table.Th scope="col">
              <VisuallyHidden>Actions</VisuallyHidden>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {policies.map((p) => (
            <Table.Tr key={p.id} data-testid={`policy-${p.name}`}>
              <Table.Td>
                <Text fw={500}>{p.name}</Text>
              </Table.Td>
              <Table.Td>{CONNECTION_LABELS[p.connectionType]}</Table.Td>
              <Table.Td>
                <Text size="sm">{formatDuration(p.deviceCertificate.lifetime)}</Text>
                {p.deviceCertificate.autoRenew && (
                  <Text size="xs" c="dimmed">
                    auto-renew, grace {formatDuration(p.deviceCertificate.renewGracePeriod)}
                  </Text>
                )}
              </Table.Td>
              <Table.Td>
                <Group gap={4}>
                  {p.deviceCertificate.keyTypes.map((k) => (
                    <Badge key={k} variant="light" color="gray" style={{ minWidth: 'max-content' }}>
                      {k}
                    </Badge>
                  ))}
                </Group>
              </Table.Td>
              <Table.Td>
                <IssuingCa policy={p} cas={cas} />
              </Table.Td>
              <Table.Td>
                <Group gap={4} wrap="nowrap" justify="flex-end">
                  <EditAction name={p.name} onClick={() => onEdit(p)} />
                  <DeleteAction name={p.name} onClick={() => onDelete(p)} />
                </Group>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
