import {
  Alert,
  Button,
  FileButton,
  Group,
  Radio,
  Select,
  Stack,
  TextInput,
  Textarea,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { IconAlertTriangle, IconFileUpload } from '@tabler/icons-react';
import { useState } from 'react';
import type { ApiError } from '../api/api-client';
import { useApi } from '../api/api-context';
import { formProblem } from '../api/form-problems';
import { ProblemAlert } from '../components/problem-alert';
import type { Batch } from '../devices/batch-types';
import { certificatePemError } from './hsm-fns';
import type { AuthCert, AuthCertRule } from './hsm-types';

interface Values {
  pem: string;
  name: string;
  batchId: string | null;
  rule: AuthCertRule | '';
}

/**
 * Imports a factory CA certificate (P5): the PEM, the batch its devices join and the rule that
 * must hold besides the vendor's signature. There is no default rule: the user chooses.
 */
export function AuthCertForm({
  batches,
  onSaved,
  onCancel,
}: {
  batches: Batch[];
  onSaved: (c: AuthCert) => void;
  onCancel: () => void;
}) {
  const api = useApi();
  const [error, setError] = useState<ApiError>();
  const form = useForm<Values>({
    initialValues: { pem: '', name: '', batchId: null, rule: '' },
    validate: {
      pem: certificatePemError,
      name: (v) => (v.trim().length > 128 ? 'Use at most 128 characters' : null),
      batchId: (v) => (v ? null : 'Choose the batch these devices join'),
      rule: (v) => (v ? null : 'Choose a rule'),
    },
  });
  const submit = form.onSubmit(async (v) => {
    setError(undefined);
    try {
      onSaved(
        await api.post<AuthCert>('/auth-certs', {
          pem: v.pem,
          ...(v.name.trim() ? { name: v.name.trim() } : {}),
          batchId: v.batchId,
          rule: v.rule,
        }),
      );
    } catch (err) {
      const p = formProblem(err, ['pem', 'name', 'batchId', 'rule'], { 'already-imported': 'pem' });
      form.setErrors(p.byField);
      setError(p.error);
    }
  });
  return (
    <form onSubmit={submit} noValidate aria-label="Import auth cert">
      <Stack>
        <Alert
          color="orange"
          variant="light"
          icon={<IconAlertTriangle aria-hidden />}
          title="Vendor CAs are shared"
        >
          A secure element vendor signs the certificates of all its customers with the same CA. Its
          signature alone proves a genuine chip, not your device: the rule below adds what only your
          devices have (a registered device ID, or your token).
        </Alert>
        <ProblemAlert error={error} title="The certificate was not imported" />
        <Textarea
          label="CA certificate (PEM)"
          description="-----BEGIN CERTIFICATE----- … Only the certificate: never a private key."
          required
          autosize
          minRows={5}
          maxRows={12}
          styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }}
          spellCheck={false}
          data-autofocus
          {...form.getInputProps('pem')}
        />
        <Group>
          <FileButton
            accept=".pem,.crt,.cer,application/x-pem-file"
            onChange={(f) => void f?.text().then((t) => form.setFieldValue('pem', t))}
          >
            {(props) => (
              <Button
                {...props}
                variant="default"
                size="xs"
                leftSection={<IconFileUpload size={14} aria-hidden />}
              >
                Load from a file
              </Button>
            )}
          </FileButton>
        </Group>
        <TextInput
          label="Name"
          description="Optional; the certificate's common name when left empty."
          {...form.getInputProps('name')}
        />
        <Select
          label="Batch"
          required
          placeholder={batches.length ? 'Choose a batch' : 'No batch yet: create one on Devices'}
          data={batches.map((b) => ({ value: b.id, label: b.name }))}
          {...form.getInputProps('batchId')}
        />
        <Radio.Group label="Rule" required {...form.getInputProps('rule')}>
          <Stack gap="xs" mt={6}>
            <Radio
              value="must-pre-register"
              label="Must pre-register device IDs"
              description="A device enrols only if its ID is also registered in the batch."
            />
            <Radio
              value="requires-token"
              label="Requires token"
              description="A device enrols only if it also presents a token of the batch."
            />
          </Stack>
        </Radio.Group>
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>
            Cancel
          </Button>
          <Button type="submit" loading={form.submitting}>
            Import certificate
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
