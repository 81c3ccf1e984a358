import {
  Alert,
  Button,
  Code,
  FileButton,
  Group,
  NumberInput,
  Stack,
  Text,
  TextInput,
  Textarea,
} from '@mantine/core';
import { IconDownload, IconFileUpload } from '@tabler/icons-react';
import { useState, type FormEvent } from 'react';
import { ApiError } from '../api/api-client';
import { useApi } from '../api/api-context';
import { fieldErrors, problemCode } from '../api/problem-fns';
import { saveBlob } from '../components/download';
import { ProblemAlert } from '../components/problem-alert';
import { base64Bytes, hubNameProblem, zipName } from './hub-fns';
import type { CreatedTool, Hub } from './hub-types';

const CSR =
  /-----BEGIN (NEW )?CERTIFICATE REQUEST-----[\s\S]+-----END (NEW )?CERTIFICATE REQUEST-----/;

/**
 * Adds a third-party tool (Node-RED, MQTT Explorer) to a broker hub: a certificate from the
 * hub's CA and a client ID, with a key made here and handed over once in the zip, or for a key
 * the user keeps (a CSR). The answer is shown until the user moves on: the zip with the key
 * cannot be had again.
 */
export function ToolForm({ hub, onAdded }: { hub: Hub; onAdded: () => void }) {
  const api = useApi();
  const [name, setName] = useState('');
  const [days, setDays] = useState<number | string>(365);
  const [csr, setCsr] = useState('');
  const [errors, setErrors] = useState<Record<string, string | undefined>>({});
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const [made, setMade] = useState<CreatedTool>();

  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    setError(undefined);
    const e: Record<string, string> = {};
    const n = hubNameProblem(name);
    if (n) e.name = `Name ${n}.`;
    const d = Number(days);
    if (days === '' || !Number.isInteger(d) || d < 1 || d > 3650)
      e.validityDays = 'From 1 to 3650 days.';
    if (csr.trim() && !CSR.test(csr) && !/^[A-Za-z0-9+/=\s_-]+$/.test(csr.trim()))
      e.csr = 'Paste a PEM certificate request (or its base64), or leave empty.';
    if (/PRIVATE KEY/.test(csr)) e.csr = 'This is a private key: keep it, and paste its CSR.';
    setErrors(e);
    if (Object.keys(e).length) return;
    setBusy(true);
    try {
      const r = await api.post<CreatedTool>(`/hubs/${hub.id}/tools`, {
        name: name.trim(),
        validityDays: d,
        ...(csr.trim() ? { csr: csr.trim() } : {}),
      });
      setMade(r);
      setName('');
      setCsr('');
      onAdded();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const { byField, other } = fieldErrors(err.problem, ['name', 'csr', 'validityDays']);
      if (problemCode(err.problem) === 'name-taken') byField.name = err.problem.detail;
      setErrors(byField);
      setError(Object.keys(byField).length && !other.length ? undefined : err);
    } finally {
      setBusy(false);
    }
  };

  const download = (t: CreatedTool) =>
    saveBlob(zipName(t.tool.name), new Blob([base64Bytes(t.zip)], { type: 'application/zip' }));

  return (
    <Stack>
      {made && (
        <Alert
          color={made.credentials.privateKey ? 'orange' : 'green'}
          variant="light"
          title={`Tool ${made.tool.name} is added`}
          role="status"
        >
          <Stack gap="xs">
            <Text size="sm">
              Client ID <Code data-testid="tool-client-id">{made.credentials.clientId}</Code>; the
              broker is at{' '}
              <Code>
                {made.credentials.host}:{made.credentials.port}
              </Code>
              . The tool must connect with this client ID.
            </Text>
            {made.credentials.privateKey ? (
              <Text size="sm" fw={500}>
                The zip holds the tool&apos;s private key, and this is the only time it can be
                downloaded: it is not kept here. Store it as you would a password.
              </Text>
            ) : (
              <Text size="sm">The certificate is for the key of your CSR, which you keep.</Text>
            )}
            <Group>
              <Button
                size="xs"
                leftSection={<IconDownload size={14} aria-hidden />}
                onClick={() => download(made)}
              >
                Download {zipName(made.tool.name)}
              </Button>
              <Button size="xs" variant="default" onClick={() => setMade(undefined)}>
                Done
              </Button>
            </Group>
          </Stack>
        </Alert>
      )}
      <form onSubmit={(e) => void submit(e)} noValidate aria-label="Add tool">
        <Stack gap="sm">
          <ProblemAlert error={error} title="The tool was not added" />
          <Group grow align="flex-start">
            <TextInput
              label="Tool name"
              description="e.g. Node-RED on the line PC."
              required
              value={name}
              error={errors.name}
              onChange={(e) => setName(e.currentTarget.value)}
            />
            <NumberInput
              label="Valid for (days)"
              min={1}
              max={3650}
              allowDecimal={false}
              allowNegative={false}
              value={days}
              error={errors.validityDays}
              onChange={setDays}
            />
          </Group>
          <Textarea
            label="Certificate request (CSR)"
            description="Optional. Without one, a key is made for the tool and put in the zip once."
            autosize
            minRows={2}
            maxRows={6}
            styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)', fontSize: 12 } }}
            value={csr}
            error={errors.csr}
            onChange={(e) => setCsr(e.currentTarget.value)}
          />
          <Group justify="space-between">
            <FileButton
              accept=".csr,.pem,.req"
              onChange={(f) => void f?.text().then((t) => setCsr(t))}
            >
              {(p) => (
                <Button
                  {...p}
                  variant="default"
                  size="xs"
                  leftSection={<IconFileUpload size={14} aria-hidden />}
                >
                  Load CSR from a file
                </Button>
              )}
            </FileButton>
            <Button type="submit" loading={busy}>
              Add tool
            </Button>
          </Group>
        </Stack>
      </form>
    </Stack>
  );
}
