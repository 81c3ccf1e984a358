import { Group, Input, NumberInput, Select } from '@mantine/core';
import { useId } from 'react';
import { DURATION_MAX, unitOptions, type DurationUnit } from '../policies/duration-fns';
import type { DurationField } from '../policies/policy-fns';

/**
 * A lifetime typed as a count and a calendar unit (minutes to years). The label belongs to
 * the count; the unit select is named after it ("<label> unit"), so both read well to a
 * screen reader, and the error shows once, under the pair.
 */
export function DurationInput({
  label,
  description,
  value,
  onChange,
  error,
  units,
  required,
}: {
  label: string;
  description?: string;
  value: DurationField;
  onChange: (v: DurationField) => void;
  error?: string;
  units?: readonly DurationUnit[];
  required?: boolean;
}) {
  const id = useId();
  const describedBy = [description && `${id}-description`, error && `${id}-error`]
    .filter(Boolean)
    .join(' ');
  return (
    <Input.Wrapper
      id={id}
      label={label}
      description={description}
      required={required}
      error={error}
    >
      <Group gap="xs" wrap="nowrap" mt={4}>
        <NumberInput
          id={id}
          min={1}
          max={DURATION_MAX}
          allowDecimal={false}
          allowNegative={false}
          w={140}
          value={value.value}
          onChange={(v) => onChange({ ...value, value: v })}
          error={!!error}
          aria-describedby={describedBy || undefined}
        />
        <Select
          aria-label={`${label} unit`}
          data={unitOptions(units)}
          allowDeselect={false}
          w={130}
          value={value.unit}
          onChange={(u) => u && onChange({ ...value, unit: u as DurationUnit })}
          error={!!error}
        />
      </Group>
    </Input.Wrapper>
  );
}
