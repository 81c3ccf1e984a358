import {
  Alert,
  Button,
  Group,
  SegmentedControl,
  Select,
  Stack,
  Text,
  TextInput,
  Textarea,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { IconAlertTriangle } from '@tabler/icons-react';
import { useState } from 'react';
import type { ApiError } from '../api/api-client';
import { useApi } from '../api/api-context';
import { formProblem } from '../api/form-problems';
import { ProblemAlert } from '../components/problem-alert';
import { privateKeyPemError, signingKeyNameError } from './hsm-fns';
import type { SigningKey, SigningKeyType } from './hsm-types';

interface Values {
  mode: 'generate' | 'import';
  name: string;
  algorithm: SigningKeyType;
  privateKeyPem: string;
}

/**
 * A new signing key (P7): generated in the key store (for production), or imported from a
 * private key PEM (for development only: the key existed outside the key store, so the
 * server lists it as nohsm:<name>).
 */
export function SigningKeyForm({
  onSaved,
  onCancel,
}: {
  onSaved: (k: SigningKey) => void;
  onCancel: () => void;
}) {
  const api = useApi();
  const [error, setError] = useState<ApiError>();
  const form = useForm<Values>({
    initialValues: { mode: 'generate', name: '', algorithm: 'P-256', privateKeyPem: '' },
    validate: {
      name: signingKeyNameError,
      privateKeyPem: (v, all) => (all.mode === 'import' ? privateKeyPemError(v) : null),
    },
  });
  const importing = form.values.mode === 'import';
  const submit = form.onSubmit(async (v) => {
    setError(undefined);
    try {
      onSaved(
        importing
          ? await api.post<SigningKey>('/pki/signing-keys/import', {
              name: v.name.trim(),
              privateKeyPem: v.privateKeyPem,
            })
          : await api.post<SigningKey>('/pki/signing-keys', {
              name: v.name.trim(),
              algorithm: v.algorithm,
            }),
      );
    } catch (err) {
      const p = formProblem(err, ['name', 'algorithm', 'privateKeyPem'], {
        'name-taken': 'name',
        'key-type-not-accepted': 'privateKeyPem',
      });
      form.setErrors(p.byField);
      setError(p.error);
    }
  });
  return (
    <form onSubmit={submit} noValidate aria-label="Create signing key">
      <Stack>
        <SegmentedControl
          aria-label="How to create the key"
          data={[
            { value: 'generate', label: 'Generate in the key store' },
            { value: 'import', label: 'Import a key (development)' },
          ]}
          {...form.getInputProps('mode')}
        />
        {importing ? (
          <Alert
            color="red"
            variant="light"
            icon={<IconAlertTriangle aria-hidden />}
            title="For development only"
          >
            An imported key has existed outside the key store: whoever saw the file can sign
            firmware your devices accept. It is listed as <b>nohsm:</b> to mark it. Use a generated
            key for products.
          </Alert>
        ) : (
          <Text size="sm" c="dimmed">
            The key is made inside the key store and never leaves it; only its public key can be
            downloaded, for devices to verify firmware.
          </Text>
        )}
        <ProblemAlert error={error} title="The signing key was not saved" />
        <TextInput
          label="Key name"
          description="Unique; letters, digits, spaces, dots, dashes, underscores."
          required
          data-autofocus
          {...form.getInputProps('name')}
        />
        {importing ? (
          <Textarea
            label="Private key (PEM)"
            description="Unencrypted ECDSA P-256 or RSA-3072: -----BEGIN PRIVATE KEY-----, EC PRIVATE KEY or RSA PRIVATE KEY."
            required
            autosize
            minRows={5}
            maxRows={12}
            styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }}
            spellCheck={false}
            autoComplete="off"
            {...form.getInputProps('privateKeyPem')}
          />
        ) : (
          <Select
            label="Key type"
            allowDeselect={false}
            data={[
              { value: 'P-256', label: 'ECDSA P-256 (256 bits)' },
              { value: 'RSA-3072', label: 'RSA 3072 bits' },
            ]}
            {...form.getInputProps('algorithm')}
          />
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>
            Cancel
          </Button>
          <Button type="submit" loading={form.submitting}>
            {importing ? 'Import key' : 'Generate key'}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
