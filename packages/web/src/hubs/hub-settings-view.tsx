import { Fieldset, Text } from '@mantine/core';
import { hubFormOf } from './hub-form-registry';
import type { Hub } from './hub-types';

const ignore = () => {};

/**
 * A hub's settings in its own form, read-only (for contributors): every field disabled, secrets
 * only said to be set, never shown (the API does not return them to anyone).
 */
export function HubSettingsView({ hub }: { hub: Hub }) {
  const entry = hubFormOf(hub.type);
  if (!entry)
    return (
      <Text size="sm">
        This console has no form for {hub.type} hubs; read them through the API.
      </Text>
    );
  return (
    <Fieldset disabled variant="unstyled" aria-label={`Settings of ${hub.name}`}>
      <entry.Fields values={entry.initial(hub)} errors={{}} set={ignore} hub={hub} />
    </Fieldset>
  );
}
