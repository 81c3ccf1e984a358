import { Alert, List, Text } from '@mantine/core';
import { IconAlertTriangle } from '@tabler/icons-react';
import type { ApiError } from '../api/api-client';

/**
 * The server's explanation of a failed request, as it wrote it (`detail`), with any per-field
 * complaints not shown beside a field, and the request id to quote to an operator.
 */
export function ProblemAlert({
  error,
  title,
  extra,
}: {
  error: ApiError | undefined;
  title?: string;
  extra?: string[];
}) {
  if (!error) return null;
  const { problem } = error;
  return (
    <Alert
      color="red"
      variant="light"
      role="alert"
      title={title ?? problem.title}
      icon={<IconAlertTriangle aria-hidden />}
    >
      <Text size="sm">{problem.detail}</Text>
      {extra && extra.length > 0 && (
        <List size="sm" mt="xs">
          {extra.map((e) => (
            <List.Item key={e}>{e}</List.Item>
          ))}
        </List>
      )}
      {problem.requestId && (
        <Text size="xs" c="dimmed" mt="xs">
          Request id: {problem.requestId}
        </Text>
      )}
    </Alert>
  );
}
