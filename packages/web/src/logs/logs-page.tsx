import {
  ActionIcon,
  Button,
  EmptyState,
  Group,
  Loader,
  Paper,
  Select,
  Stack,
  Text,
  TextInput,
  Tooltip,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useLocalStorage } from '@mantine/hooks';
import { IconListSearch, IconRefresh } from '@tabler/icons-react';
import { useState } from 'react';
import { useApiQuery } from '../api/use-api-query';
import { PageHeader } from '../components/page-header';
import { ProblemAlert } from '../components/problem-alert';
import { localInputToIso, type AuditPage } from './audit-fns';
import { AuditTable, ColumnSettings, OPTIONAL_COLUMNS, type OptionalColumn } from './audit-table';

interface Filters {
  q: string;
  action: string;
  result: string;
  from: string;
  to: string;
}
const NO_FILTERS: Filters = { q: '', action: '', result: '', from: '', to: '' };

/**
 * The full log (U5): newest first, filtered by text, action, result and time, paged with the
 * server's cursor (`nextBefore`), with a choice of columns kept in this browser.
 */
export function LogsPage() {
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [pageSize, setPageSize] = useState('50');
  // Cursors of the pages seen so far: page i was fetched with `before = cursors[i]`.
  const [cursors, setCursors] = useState<(number | undefined)[]>([undefined]);
  const [columns, setColumns] = useLocalStorage<OptionalColumn[]>({
    key: 'trustlink-log-columns',
    defaultValue: [...OPTIONAL_COLUMNS],
  });
  const form = useForm<Filters>({
    initialValues: NO_FILTERS,
    validate: {
      to: (v, all) =>
        v && all.from && localInputToIso(v)! < localInputToIso(all.from)!
          ? 'The end is before the start'
          : null,
    },
  });
  const before = cursors[cursors.length - 1];
  const { data, error, loading, reload } = useApiQuery<AuditPage>('/audit', {
    before,
    limit: pageSize,
    q: filters.q.trim() || undefined,
    action: filters.action.trim() || undefined,
    result: filters.result || undefined,
    from: localInputToIso(filters.from),
    to: localInputToIso(filters.to),
  });

  const apply = form.onSubmit((v) => {
    setFilters(v);
    setCursors([undefined]);
  });
  const clear = () => {
    form.setValues(NO_FILTERS);
    setFilters(NO_FILTERS);
    setCursors([undefined]);
  };
  const filtered = JSON.stringify(filters) !== JSON.stringify(NO_FILTERS);

  return (
    <>
      <PageHeader
        title="Logs"
        description="Every action and device event: who did what, when and from where."
        actions={
          <>
            <ColumnSettings visible={columns} onChange={setColumns} />
            <Tooltip label="Refresh">
              <ActionIcon variant="default" size="lg" aria-label="Refresh the log" onClick={reload}>
                <IconRefresh size={18} aria-hidden />
              </ActionIcon>
            </Tooltip>
          </>
        }
      />
      <Stack>
        <Paper withBorder p="md" component="form" onSubmit={apply} aria-label="Filter the log">
          <Group align="flex-end" wrap="wrap">
            <TextInput
              label="Search"
              placeholder="user, address, detail…"
              w={220}
              {...form.getInputProps('q')}
            />
            <TextInput
              label="Action"
              placeholder="e.g. auth.sign-in"
              w={180}
              {...form.getInputProps('action')}
            />
            <Select
              label="Result"
              w={130}
              data={[
                { value: '', label: 'Any' },
                { value: 'ok', label: 'ok' },
                { value: 'denied', label: 'denied' },
                { value: 'failed', label: 'failed' },
              ]}
              allowDeselect={false}
              {...form.getInputProps('result')}
            />
            <TextInput type="datetime-local" label="From" {...form.getInputProps('from')} />
            <TextInput type="datetime-local" label="To" {...form.getInputProps('to')} />
            <Button type="submit">Apply</Button>
            {filtered && (
              <Button variant="default" onClick={clear}>
                Clear
              </Button>
            )}
          </Group>
        </Paper>
        <ProblemAlert error={error} title="The log could not be loaded" />
        <Paper withBorder p="xs" pos="relative">
          {!data && loading ? (
            <Group justify="center" p="xl">
              <Loader aria-label="Loading the log" />
            </Group>
          ) : data && data.entries.length === 0 ? (
            <EmptyState
              py="xl"
              icon={<IconListSearch size={32} aria-hidden />}
              withIndicatorBackground
              title={filtered ? 'No entries match these filters' : 'The log is empty'}
              description={
                filtered
                  ? 'Widen the time range or clear the filters.'
                  : 'Entries appear as people and devices act on this instance.'
              }
            />
          ) : data ? (
            <AuditTable entries={data.entries} columns={columns} caption="Audit log" />
          ) : null}
        </Paper>
        <Group justify="space-between">
          <Group gap="xs">
            <Text size="sm" id="page-size-label">
              Entries per page
            </Text>
            <Select
              aria-labelledby="page-size-label"
              w={90}
              data={['25', '50', '100', '200']}
              value={pageSize}
              allowDeselect={false}
              onChange={(v) => {
                setPageSize(v ?? '50');
                setCursors([undefined]);
              }}
            />
          </Group>
          <Group gap="xs">
            <Text size="sm" c="dimmed">
              Page {cursors.length}
            </Text>
            <Button
              variant="default"
              disabled={cursors.length <= 1}
              onClick={() => setCursors((c) => c.slice(0, -1))}
            >
              Newer
            </Button>
            <Button
              variant="default"
              disabled={!data?.nextBefore}
              onClick={() => setCursors((c) => [...c, data!.nextBefore!])}
            >
              Older
            </Button>
          </Group>
        </Group>
      </Stack>
    </>
  );
}
