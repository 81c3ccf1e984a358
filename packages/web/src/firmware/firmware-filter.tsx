import { Button, Group, Paper, SegmentedControl, Stack, Text } from '@mantine/core';
import { useState } from 'react';
import { AttributeRows } from './attribute-rows';
import { attributeProblems, cleanAttributes } from './firmware-fns';
import type { Attribute } from './firmware-types';

export interface FirmwareFilterValue {
  operator: 'and' | 'or';
  filters: Attribute[];
}

/**
 * Filters the firmware list by attributes: all pairs (AND) or any pair (OR) must be among an
 * image's attributes. The server does the matching (GET /firmware?operator=&attr=name:value).
 */
export function FirmwareFilter({
  value,
  onApply,
}: {
  value: FirmwareFilterValue;
  onApply: (v: FirmwareFilterValue) => void;
}) {
  const [operator, setOperator] = useState(value.operator);
  const [rows, setRows] = useState<Attribute[]>(
    value.filters.length ? value.filters : [{ name: '', value: '' }],
  );
  const [errors, setErrors] = useState<Record<string, string>>({});

  const apply = () => {
    const filters = cleanAttributes(rows);
    // The same pair twice is allowed in a filter; only names and lengths are checked.
    const e = Object.fromEntries(
      Object.entries(attributeProblems(filters)).filter(([, m]) => !/twice/.test(m)),
    );
    setErrors(e);
    if (Object.keys(e).length === 0) onApply({ operator, filters });
  };

  return (
    <Paper withBorder p="md" component="section" aria-label="Filter firmware">
      <Stack gap="sm">
        <Group justify="space-between" align="flex-end">
          <Text size="sm" c="dimmed">
            Show firmware whose attributes match.
          </Text>
          <SegmentedControl
            size="xs"
            aria-label="Operator"
            value={operator}
            onChange={(v) => setOperator(v as 'and' | 'or')}
            data={[
              { value: 'and', label: 'All (AND)' },
              { value: 'or', label: 'Any (OR)' },
            ]}
          />
        </Group>
        <AttributeRows
          idPrefix="firmware-filter"
          label="Filter"
          rows={rows}
          onChange={setRows}
          addLabel="Add filter"
          errorOf={(i, f) => errors[`${i}.${f}`]}
        />
        <Group justify="flex-end">
          <Button
            variant="default"
            onClick={() => {
              setRows([{ name: '', value: '' }]);
              setErrors({});
              onApply({ operator: 'and', filters: [] });
            }}
          >
            Clear filter
          </Button>
          <Button onClick={apply}>Set filter</Button>
        </Group>
      </Stack>
    </Paper>
  );
}
