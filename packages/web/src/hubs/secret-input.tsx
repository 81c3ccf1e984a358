import { PasswordInput } from '@mantine/core';
import type { HubFieldsProps } from './hub-form-registry';
import { OBSCURED } from './hub-types';

/**
 * A write-only setting (an API token, an access key) for hub types that have one. The value is
 * never read back: a hub being edited shows whether one is set, and an empty box keeps it
 * (`secretsToSend` leaves it out of the request). For the forms of types with secrets.
 */
export function SecretInput({
  field,
  label,
  description,
  values,
  errors,
  set,
  hub,
}: HubFieldsProps & { field: string; label: string; description?: string }) {
  const isSet = hub?.secrets[field]?.set ?? false;
  return (
    <PasswordInput
      label={label}
      description={
        isSet ? `${description ?? ''} A value is set: leave empty to keep it.`.trim() : description
      }
      placeholder={isSet ? OBSCURED : undefined}
      required={!isSet}
      autoComplete="new-password"
      value={String(values[field] ?? '')}
      error={errors[field]}
      onChange={(e) => set(field, e.currentTarget.value)}
    />
  );
}
