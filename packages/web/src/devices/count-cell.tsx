import { Progress, Stack, Text } from '@mantine/core';
import { share } from './batch-fns';

/**
 * A count with a small bar of its share of the batch. The bar is decoration (the number says
 * it all), so it is hidden from screen readers.
 */
export function CountCell({
  count,
  of,
  color,
  testId,
}: {
  count: number;
  of: number;
  color: string;
  testId?: string;
}) {
  return (
    <Stack gap={4} miw={70}>
      <Text size="sm" data-testid={testId}>
        {count}
      </Text>
      <Progress value={share(count, of)} color={color} size="sm" aria-hidden />
    </Stack>
  );
}
