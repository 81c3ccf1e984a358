import { Anchor, EmptyState, Paper } from '@mantine/core';
import { IconTools } from '@tabler/icons-react';
import type { AreaInfo } from '../app/nav-fns';
import { PageHeader } from './page-header';

/**
 * What an area shows until its screen lands: what the area is for, and an honest note that
 * this version has no screen for it yet. No made-up data.
 */
export function PlannedScreen({ area }: { area: AreaInfo }) {
  return (
    <>
      <PageHeader title={area.label} description={area.summary} />
      <Paper withBorder p="xl" radius="md">
        <EmptyState
          icon={<IconTools size={32} aria-hidden />}
          withIndicatorBackground
          title="Not in this version yet"
          description={
            <>
              This screen comes with a later release. What the server already offers is listed in
              the <Anchor href="/api/docs">API documentation</Anchor>.
            </>
          }
        />
      </Paper>
    </>
  );
}
