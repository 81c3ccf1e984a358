import {
  Button,
  FileInput,
  Group,
  NumberInput,
  Progress,
  SegmentedControl,
  Select,
  Stack,
  Text,
  TextInput,
  Textarea,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { IconFileUpload } from '@tabler/icons-react';
import { useEffect, useRef, useState } from 'react';
import type { ApiError } from '../api/api-client';
import { useApi } from '../api/api-context';
import { formProblem } from '../api/form-problems';
import { ProblemAlert } from '../components/problem-alert';
import { AttributeRows } from './attribute-rows';
import {
  MAX_DESCRIPTION,
  attributeProblems,
  cleanAttributes,
  firmwareNameProblem,
  formatSize,
  inputOfFile,
  pathWithAttributes,
  securityVersionProblem,
  versionProblem,
} from './firmware-fns';
import type { Attribute, Firmware, FirmwareFormat, SourceFormat } from './firmware-types';

const FORMAT_LABELS: Record<FirmwareFormat, string> = {
  raw: 'Raw image (signed manifest only)',
  'esp32-sbv2': 'ESP32 Secure Boot V2 (manifest and signature block)',
  'linux-bundle-cms': 'Linux update bundle (manifest and detached CMS)',
};

interface Values {
  name: string;
  version: string;
  securityVersion: number | string;
  format: FirmwareFormat;
  input: SourceFormat;
  description: string;
  attributes: Attribute[];
  file: File | null;
}

const FIELDS = ['name', 'version', 'securityVersion', 'format', 'input', 'description', 'file'];
const CODE_FIELDS = {
  'name-taken': 'name',
  'intel-hex-invalid': 'file',
  'payload-too-large': 'file',
  'empty-image': 'file',
};

function validate(v: Values, editing: boolean): Record<string, string> {
  const e: Record<string, string> = {};
  const name = firmwareNameProblem(v.name);
  if (name) e.name = `Name ${name}.`;
  if (v.description.length > MAX_DESCRIPTION)
    e.description = `At most ${MAX_DESCRIPTION} characters.`;
  for (const [k, msg] of Object.entries(attributeProblems(cleanAttributes(v.attributes))))
    e[`attributes.${k}`] = msg;
  if (editing) return e;
  const version = versionProblem(v.version);
  if (version) e.version = `Version ${version}.`;
  const sv = securityVersionProblem(v.securityVersion);
  if (sv) e.securityVersion = `Security version ${sv}.`;
  if (!v.file) e.file = 'Choose the image file.';
  else if (v.file.size === 0) e.file = 'The file is empty.';
  return e;
}

/**
 * Adds firmware (an image file with its name, version, security version, format, description
 * and attributes; the file travels as it is, with a progress bar) or edits one (name,
 * description and attributes: the image and its versions are fixed once stored).
 */
export function FirmwareForm({
  firmware,
  onSaved,
  onCancel,
}: {
  firmware?: Firmware;
  onSaved: (f: Firmware) => void;
  onCancel: () => void;
}) {
  const api = useApi();
  const editing = !!firmware;
  const [error, setError] = useState<ApiError>();
  const [other, setOther] = useState<string[]>([]);
  const alertRef = useRef<HTMLDivElement>(null);
  // The submit button is at the bottom of a long form: bring the server's refusal into view.
  useEffect(() => {
    if (error) alertRef.current?.scrollIntoView({ block: 'nearest' });
  }, [error]);
  const [progress, setProgress] = useState<number>();
  const abort = useRef<AbortController>(undefined);
  const form = useForm<Values>({
    mode: 'controlled',
    initialValues: {
      name: firmware?.name ?? '',
      version: firmware?.version ?? '',
      securityVersion: firmware?.securityVersion ?? 0,
      format: firmware?.format ?? 'raw',
      input: firmware?.input ?? 'binary',
      description: firmware?.description ?? '',
      attributes: firmware?.attributes ?? [],
      file: null,
    },
    validate: (v) => validate(v, editing),
  });
  const v = form.values;

  const submit = form.onSubmit(async (values) => {
    setError(undefined);
    setOther([]);
    const attributes = cleanAttributes(values.attributes);
    try {
      let saved: Firmware;
      if (firmware) {
        saved = await api.patch<Firmware>(`/firmware/${firmware.id}`, {
          name: values.name.trim(),
          description: values.description,
          attributes,
        });
      } else {
        const path = pathWithAttributes(
          '/firmware',
          {
            name: values.name.trim(),
            version: values.version,
            securityVersion: Number(values.securityVersion),
            format: values.format,
            input: values.input,
            description: values.description,
          },
          attributes,
        );
        abort.current = new AbortController();
        setProgress(0);
        saved = await api.upload<Firmware>(path, values.file!, {
          contentType: 'application/octet-stream',
          signal: abort.current.signal,
          onProgress: (sent, total) => setProgress(Math.round((sent / total) * 100)),
        });
      }
      onSaved(saved);
    } catch (err) {
      if (err instanceof DOMException && err.name === 'AbortError') return;
      const p = formProblem(err, FIELDS, CODE_FIELDS);
      form.setErrors(p.byField);
      setError(p.error);
      setOther(p.other);
    } finally {
      setProgress(undefined);
      abort.current = undefined;
    }
  });
  const sending = progress !== undefined;

  return (
    <form onSubmit={submit} noValidate aria-label={editing ? 'Edit firmware' : 'Add firmware'}>
      <Stack>
        <div ref={alertRef}>
          <ProblemAlert error={error} title="The firmware was not saved" extra={other} />
        </div>
        <TextInput
          label="Firmware name"
          description="Unique; letters, digits, spaces, dot, plus, underscore and hyphen."
          required
          data-autofocus
          {...form.getInputProps('name')}
        />
        {!editing && (
          <Group grow align="flex-start">
            <TextInput
              label="Version"
              description="As the device reports it, e.g. 1.4.2."
              required
              {...form.getInputProps('version')}
            />
            <NumberInput
              label="Security version"
              description="Anti-rollback counter: devices refuse lower ones."
              min={0}
              max={4294967295}
              allowDecimal={false}
              allowNegative={false}
              {...form.getInputProps('securityVersion')}
            />
          </Group>
        )}
        {!editing && (
          <Select
            label="Image format"
            description="Decides which signatures are made when the firmware is assigned to a batch."
            allowDeselect={false}
            data={(Object.keys(FORMAT_LABELS) as FirmwareFormat[]).map((f) => ({
              value: f,
              label: FORMAT_LABELS[f],
            }))}
            {...form.getInputProps('format')}
          />
        )}
        <Textarea
          label="Description"
          autosize
          minRows={2}
          maxRows={6}
          {...form.getInputProps('description')}
        />
        <AttributeRows
          idPrefix="firmware-attributes"
          label="Attribute"
          hint="Name = value pairs (board, chip, region…) that batches filter firmware by. Optional."
          rows={v.attributes}
          onChange={(rows) => form.setFieldValue('attributes', rows)}
          errorOf={(i, f) => form.errors[`attributes.${i}.${f}`] as string | undefined}
        />
        {!editing && (
          <>
            <FileInput
              label="Image file"
              description="A binary image, or Intel HEX text (.hex), which the server converts and checks line by line."
              placeholder="Choose a file"
              required
              clearable
              leftSection={<IconFileUpload size={16} aria-hidden />}
              {...form.getInputProps('file')}
              onChange={(f) => {
                form.setFieldValue('file', f);
                if (f) form.setFieldValue('input', inputOfFile(f.name));
              }}
            />
            {v.file && (
              <Group gap="sm">
                <Text size="xs" c="dimmed">
                  {formatSize(v.file.size)}, read as
                </Text>
                <SegmentedControl
                  size="xs"
                  aria-label="File contents"
                  data={[
                    { value: 'binary', label: 'Binary' },
                    { value: 'intel-hex', label: 'Intel HEX' },
                  ]}
                  {...form.getInputProps('input')}
                />
              </Group>
            )}
          </>
        )}
        {sending && (
          <div role="status" aria-live="polite">
            <Text size="xs" mb={4} data-testid="firmware-upload-progress">
              {progress < 100
                ? `Sending ${v.file?.name ?? 'the image'}… ${progress}%`
                : 'The server is checking and storing the image…'}
            </Text>
            <Progress value={progress} animated={progress >= 100} aria-label="Upload progress" />
          </div>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={() => (sending ? abort.current?.abort() : onCancel())}>
            {sending ? 'Stop upload' : 'Cancel'}
          </Button>
          <Button type="submit" loading={form.submitting}>
            {editing ? 'Save firmware' : 'Upload firmware'}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
