import { Button, EmptyState, Paper } from '@mantine/core';
import { IconMapQuestion } from '@tabler/icons-react';
import { Link } from 'react-router';
import { PageHeader } from './page-header';

/** A console address that names no screen. */
export function NotFoundPage() {
  return (
    <>
      <PageHeader title="Page not found" />
      <Paper withBorder p="xl">
        <EmptyState
          icon={<IconMapQuestion size={32} aria-hidden />}
          withIndicatorBackground
          title="There is no screen at this address"
          description="The link may be old or mistyped. The menu lists every screen you can use."
        >
          <EmptyState.Actions>
            <Button component={Link} to="/dashboard">
              Go to the dashboard
            </Button>
          </EmptyState.Actions>
        </EmptyState>
      </Paper>
    </>
  );
}
