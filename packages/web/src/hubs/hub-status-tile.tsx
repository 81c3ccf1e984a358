import { Skeleton } from '@mantine/core';
import { useEffect, useState } from 'react';
import { useApiQuery } from '../api/use-api-query';
import { StatusTileButton } from '../dashboard/status-tile';
import type { StatusTile } from '../dashboard/status-fns';
import { hubTile } from './hub-fns';
import type { HubStatus } from './hub-types';

/**
 * The dashboard's IoT hubs tile (H6): how many configured hubs answer their check, "N of M",
 * green when all do, orange when some, red when none; hover or focus lists each hub's result,
 * a click checks again. The figures are the server's (GET /hubs/status).
 */
export function HubStatusTile() {
  const { data, error, loading, reload } = useApiQuery<HubStatus>('/hubs/status');
  const [checkedAt, setCheckedAt] = useState<Date>();
  useEffect(() => {
    if (data || error) setCheckedAt(new Date());
  }, [data, error]);

  if (!data && !error) return <Skeleton height={92} radius="md" />;
  const tile: StatusTile = data
    ? { key: 'hubs', label: 'IoT hubs', ...hubTile(data) }
    : {
        key: 'hubs',
        label: 'IoT hubs',
        colour: 'gray',
        summary: 'Unknown',
        detail: error!.problem.detail,
      };
  return (
    <StatusTileButton tile={tile} checkedAt={checkedAt} refreshing={loading} onRefresh={reload} />
  );
}
