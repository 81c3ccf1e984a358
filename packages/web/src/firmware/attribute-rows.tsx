import { ActionIcon, Button, Group, Stack, Text, TextInput } from '@mantine/core';
import { IconPlus, IconX } from '@tabler/icons-react';
import { MAX_ATTRIBUTES } from './firmware-fns';
import type { Attribute } from './firmware-types';

/**
 * Name = value rows (a firmware's attributes, or the pairs of a filter), controlled by the
 * caller. `errorOf(i, 'name')` gives the complaint to show beside a cell.
 */
export function AttributeRows({
  label,
  hint,
  rows,
  onChange,
  errorOf = () => undefined,
  addLabel = 'Add attribute',
  idPrefix,
}: {
  label: string;
  hint?: string;
  rows: Attribute[];
  onChange: (rows: Attribute[]) => void;
  errorOf?: (i: number, field: 'name' | 'value') => string | undefined;
  addLabel?: string;
  /** Keeps the group's label id unique when two editors share a page. */
  idPrefix: string;
}) {
  const set = (i: number, field: 'name' | 'value', v: string) =>
    onChange(rows.map((r, j) => (j === i ? { ...r, [field]: v } : r)));
  return (
    <Stack gap="xs">
      <div>
        <Text size="sm" fw={500} id={`${idPrefix}-label`}>
          {label}
        </Text>
        {hint && (
          <Text size="xs" c="dimmed">
            {hint}
          </Text>
        )}
      </div>
      <Stack gap="xs" role="group" aria-labelledby={`${idPrefix}-label`}>
        {rows.map((r, i) => (
          <Group key={i} align="flex-start" wrap="nowrap">
            <TextInput
              aria-label={`${label} ${i + 1} name`}
              placeholder="name, e.g. board"
              style={{ flex: 1 }}
              value={r.name}
              error={errorOf(i, 'name')}
              onChange={(e) => set(i, 'name', e.currentTarget.value)}
            />
            <TextInput
              aria-label={`${label} ${i + 1} value`}
              placeholder="value, e.g. rev-b"
              style={{ flex: 1 }}
              value={r.value}
              error={errorOf(i, 'value')}
              onChange={(e) => set(i, 'value', e.currentTarget.value)}
            />
            <ActionIcon
              variant="subtle"
              color="gray"
              size="lg"
              aria-label={`Remove ${label.toLowerCase()} ${i + 1}`}
              onClick={() => onChange(rows.filter((_r, j) => j !== i))}
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
          disabled={rows.length >= MAX_ATTRIBUTES}
          onClick={() => onChange([...rows, { name: '', value: '' }])}
        >
          {addLabel}
        </Button>
      </Group>
    </Stack>
  );
}
