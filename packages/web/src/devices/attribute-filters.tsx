import { ActionIcon, Button, Group, SegmentedControl, Stack, Text, TextInput } from '@mantine/core';
import type { UseFormReturnType } from '@mantine/form';
import { IconPlus, IconX } from '@tabler/icons-react';
import { MAX_FILTERS, type BatchFormValues } from './batch-fns';

/**
 * Attribute filters of a batch: name/value pairs, all of which (AND) or any of which (OR) a
 * firmware's attributes must match to fit the batch's devices.
 */
export function AttributeFilters({ form }: { form: UseFormReturnType<BatchFormValues> }) {
  const rows = form.values.attributeFilter.filters;
  return (
    <Stack gap="xs">
      <Group justify="space-between" align="flex-end">
        <div>
          <Text size="sm" fw={500} id="filters-label">
            Filter by attributes
          </Text>
          <Text size="xs" c="dimmed">
            Firmware fits this batch when its attributes match. Optional.
          </Text>
        </div>
        {rows.length > 1 && (
          <SegmentedControl
            size="xs"
            aria-label="Match"
            data={[
              { value: 'and', label: 'All (AND)' },
              { value: 'or', label: 'Any (OR)' },
            ]}
            {...form.getInputProps('attributeFilter.operator')}
          />
        )}
      </Group>
      <Stack gap="xs" role="group" aria-labelledby="filters-label">
        {rows.map((_row, i) => (
          <Group key={form.key(`attributeFilter.filters.${i}`)} align="flex-start" wrap="nowrap">
            <TextInput
              aria-label={`Attribute ${i + 1} name`}
              placeholder="name, e.g. board"
              style={{ flex: 1 }}
              {...form.getInputProps(`attributeFilter.filters.${i}.name`)}
            />
            <TextInput
              aria-label={`Attribute ${i + 1} value`}
              placeholder="value, e.g. rev-b"
              style={{ flex: 1 }}
              {...form.getInputProps(`attributeFilter.filters.${i}.value`)}
            />
            <ActionIcon
              variant="subtle"
              color="gray"
              size="lg"
              aria-label={`Remove attribute ${i + 1}`}
              onClick={() => form.removeListItem('attributeFilter.filters', i)}
            >
              <IconX size={16} aria-hidden />
            </ActionIcon>
          </Group>
        ))}
      </Stack>
      <Group>
        <Button
          variant="default"
          size="xs"
          leftSection={<IconPlus size={14} aria-hidden />}
          disabled={rows.length >= MAX_FILTERS}
          onClick={() => form.insertListItem('attributeFilter.filters', { name: '', value: '' })}
        >
          Add filter
        </Button>
      </Group>
    </Stack>
  );
}
