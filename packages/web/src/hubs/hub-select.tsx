import { Select } from '@mantine/core';
import { useApiQuery } from '../api/use-api-query';
import { HUB_TYPE_LABELS, type Hub } from './hub-types';

/**
 * Chooses the IoT hub of a policy: the instance's hubs by name and type. Optional (a policy
 * without a hub onboards its devices nowhere); a failure to list them is said in place.
 */
export function HubSelect({
  value,
  onChange,
  error,
}: {
  value: string | null;
  onChange: (id: string | null) => void;
  error?: string;
}) {
  const { data, error: listError } = useApiQuery<{ items: Hub[] }>('/hubs');
  const hubs = data?.items ?? [];
  const none = data && hubs.length === 0;
  return (
    <Select
      label="IoT hub"
      description={
        listError
          ? `The hubs cannot be listed: ${listError.problem.detail}`
          : none
            ? 'Optional. No IoT hub is configured yet: create one on the IoT Hubs screen.'
            : 'Optional. Devices of this policy are onboarded to this hub when they enrol.'
      }
      placeholder={none ? 'No IoT hub yet' : 'No hub'}
      clearable
      searchable
      disabled={none && !value}
      data={hubs.map((h) => ({
        value: h.id,
        label: `${h.name} (${HUB_TYPE_LABELS[h.type] ?? h.type})`,
      }))}
      value={value}
      onChange={onChange}
      error={error}
    />
  );
}
