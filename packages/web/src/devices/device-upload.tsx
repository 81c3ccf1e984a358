import { Alert, Button, FileInput, Group, Progress, Stack, Text } from '@mantine/core';
import { IconFileUpload } from '@tabler/icons-react';
import { useState } from 'react';
import { ApiError } from '../api/api-client';
import { useApi } from '../api/api-context';
import { notifySuccess } from '../components/notify';
import { ProblemAlert } from '../components/problem-alert';
import { checkDeviceList, parseDeviceFile, uploadProblems } from './batch-fns';
import type { DeviceListProblem, UploadResult } from './batch-types';
import { UploadProblems } from './upload-problems';

type Phase =
  | { kind: 'idle' }
  | { kind: 'sending'; count: number; percent: number }
  | { kind: 'bad-file'; reason: string }
  | { kind: 'bad-entries'; problems: DeviceListProblem[]; count: number }
  | { kind: 'refused'; error: ApiError; problems?: DeviceListProblem[]; total: number };

/**
 * Uploads a device list file, `{"devices": ["<64 hex>", ...]}`. The file is checked here
 * first, as the server checks it, and nothing is sent while any entry is bad; the server then
 * checks again (IDs registered in another batch only it can see) and adds all or nothing. A
 * refusal lists every bad entry with its position, value and reason.
 */
export function DeviceUpload({ batchId, onUploaded }: { batchId: string; onUploaded: () => void }) {
  const api = useApi();
  const [file, setFile] = useState<File | null>(null);
  const [phase, setPhase] = useState<Phase>({ kind: 'idle' });
  const busy = phase.kind === 'sending';

  const upload = async () => {
    if (!file) return;
    const parsed = parseDeviceFile(await file.text());
    if (!parsed.ok) return setPhase({ kind: 'bad-file', reason: parsed.reason });
    const count = parsed.devices.length;
    const problems = checkDeviceList(parsed.devices);
    if (problems.length) return setPhase({ kind: 'bad-entries', problems, count });
    setPhase({ kind: 'sending', count, percent: 0 });
    try {
      const r = await api.upload<UploadResult>(`/batches/${batchId}/devices/upload`, file, {
        onProgress: (sent, total) =>
          setPhase({ kind: 'sending', count, percent: Math.round((sent / total) * 100) }),
      });
      setPhase({ kind: 'idle' });
      setFile(null);
      notifySuccess(
        `${r.added} device IDs added${r.alreadyInBatch ? `, ${r.alreadyInBatch} were already in this batch` : ''}.`,
        'Upload done',
      );
      onUploaded();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const listed = uploadProblems(err.problem);
      setPhase({
        kind: 'refused',
        error: err,
        problems: listed?.problems,
        total: listed?.total ?? 0,
      });
    }
  };

  return (
    <Stack gap="xs">
      <Group align="flex-start" wrap="nowrap">
        <FileInput
          label="Device list file"
          description='JSON: {"devices": ["<64 hex>", ...]}. All or nothing; IDs already in this batch are left alone.'
          placeholder="Choose a file"
          accept=".json,.txt,application/json,text/plain"
          clearable
          style={{ flex: 1 }}
          value={file}
          onChange={(f) => {
            setFile(f);
            setPhase({ kind: 'idle' });
          }}
          leftSection={<IconFileUpload size={16} aria-hidden />}
        />
        <Button mt={46} disabled={!file} loading={busy} onClick={() => void upload()}>
          Upload
        </Button>
      </Group>
      {phase.kind === 'sending' && (
        <div role="status" aria-live="polite">
          <Text size="xs" mb={4} data-testid="upload-progress">
            {phase.percent < 100
              ? `Sending ${phase.count} device IDs… ${phase.percent}%`
              : `The server is checking and registering ${phase.count} device IDs…`}
          </Text>
          <Progress
            value={phase.percent}
            animated={phase.percent >= 100}
            aria-label="Upload progress"
          />
        </div>
      )}
      {phase.kind === 'bad-file' && (
        <Alert color="red" variant="light" role="alert" title="The file cannot be used">
          {phase.reason}
        </Alert>
      )}
      {phase.kind === 'bad-entries' && (
        <Alert color="red" variant="light" role="alert" title="Nothing was sent">
          <UploadProblems
            problems={phase.problems}
            total={phase.problems.length}
            caption={`${phase.problems.length} of ${phase.count} entries are not device IDs. Fix them and upload again.`}
          />
        </Alert>
      )}
      {phase.kind === 'refused' &&
        (phase.problems ? (
          <Alert color="red" variant="light" role="alert" title="The server refused the list">
            <UploadProblems
              problems={phase.problems}
              total={phase.total}
              caption={phase.error.problem.detail}
            />
          </Alert>
        ) : (
          <ProblemAlert error={phase.error} title="The upload failed" />
        ))}
    </Stack>
  );
}
