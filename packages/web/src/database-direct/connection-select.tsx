import { Select } from '@mantine/core';
import { useApiQuery } from '../api/use-api-query';
import { DATABASE_TYPE_LABELS, type DatabaseConnection } from './database-direct-types';

/**
 * Chooses the database direct connection of a policy: the instance's connections by name and
 * type. Required for a database direct policy; a failure to list them is said in place.
 */
export function ConnectionSelect({
  value,
  onChange,
  error,
}: {
  value: string | null;
  onChange: (id: string | null) => void;
  error?: string;
}) {
  const { data, error: listError } = useApiQuery<{ items: DatabaseConnection[] }>(
    '/database-connections',
  );
  const items = data?.items ?? [];
  const none = data && items.length === 0;
  return (
    <Select
      label="Database direct connection"
      required
      description={
        listError
          ? `The connections cannot be listed: ${listError.problem.detail}`
          : none
            ? 'No connection is configured yet: an administrator adds one on the Database Direct screen.'
            : "Devices of this policy write to this database with tokens signed by the connection's key."
      }
      placeholder={none ? 'No connection yet' : 'Choose a connection'}
      searchable
      disabled={none && !value}
      data={items.map((c) => ({
        value: c.id,
        label: `${c.name} (${DATABASE_TYPE_LABELS[c.type] ?? c.type}, ${c.database})`,
      }))}
      value={value}
      onChange={onChange}
      error={error}
    />
  );
}
