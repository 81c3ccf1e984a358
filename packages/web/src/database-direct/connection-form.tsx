import {
  Button,
  Fieldset,
  Group,
  PasswordInput,
  Select,
  Stack,
  Switch,
  TextInput,
  Textarea,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useState } from 'react';
import type { ApiError } from '../api/api-client';
import { useApi } from '../api/api-context';
import { formProblem } from '../api/form-problems';
import { ProblemAlert } from '../components/problem-alert';
import {
  connectionErrors,
  connectionInputOf,
  connectionValues,
  newConnectionValues,
  urlExample,
  type ConnectionFormValues,
} from './database-direct-fns';
import {
  DATABASE_TYPE_LABELS,
  DATABASE_TYPES,
  type DatabaseConnection,
  type DatabaseType,
  type SecretField,
} from './database-direct-types';

/** Every field the server may name in a refusal. */
const FIELDS = [
  'name',
  'type',
  'url',
  'database',
  'dataSource',
  'caCertificate',
  'tls',
  'username',
  'password',
];
const CODE_FIELDS = { 'name-taken': 'name', 'outbound-address-refused': 'url' };

/**
 * Creates a database direct connection or changes one. The login is write-only: a connection
 * being edited shows that it is set, never its value, and an empty box keeps it. The form
 * refuses what the server would; the server's answer (an address it will not reach, the
 * platform's own database) still shows beside the field it concerns.
 */
export function ConnectionForm({
  connection,
  onSaved,
  onCancel,
}: {
  connection?: DatabaseConnection;
  onSaved: (c: DatabaseConnection) => void;
  onCancel: () => void;
}) {
  const api = useApi();
  const [error, setError] = useState<ApiError>();
  const [other, setOther] = useState<string[]>([]);
  const form = useForm<ConnectionFormValues>({
    initialValues: connection ? connectionValues(connection) : newConnectionValues(),
    validate: (v) => connectionErrors(v, connection),
  });
  const v = form.values;

  const submit = form.onSubmit(async (values) => {
    setError(undefined);
    setOther([]);
    try {
      const body = connectionInputOf(values);
      onSaved(
        connection
          ? await api.put<DatabaseConnection>(`/database-connections/${connection.id}`, body)
          : await api.post<DatabaseConnection>('/database-connections', body),
      );
    } catch (err) {
      const p = formProblem(err, FIELDS, CODE_FIELDS);
      form.setErrors(p.byField);
      setError(p.error);
      setOther(p.other);
    }
  });

  const secret = (field: SecretField, label: string, autoComplete: string) => {
    const isSet = connection?.secrets[field].set ?? false;
    return (
      <PasswordInput
        label={label}
        description={
          isSet ? 'A value is set: leave empty to keep it.' : 'Write-only: never shown again.'
        }
        placeholder={isSet ? '********' : undefined}
        required={!isSet}
        autoComplete={autoComplete}
        {...form.getInputProps(field)}
      />
    );
  };

  return (
    <form
      onSubmit={submit}
      noValidate
      aria-label={connection ? 'Edit database direct connection' : 'Add database direct connection'}
    >
      <Stack>
        <ProblemAlert error={error} title="The connection was not saved" extra={other} />
        <TextInput
          label="Connection name"
          description="Unique; a policy refers to it. Letters, digits, spaces, dots, underscores and hyphens."
          required
          data-autofocus
          {...form.getInputProps('name')}
        />
        <Select
          label="Database type"
          required
          allowDeselect={false}
          data={DATABASE_TYPES.map((t) => ({ value: t, label: DATABASE_TYPE_LABELS[t] }))}
          {...form.getInputProps('type')}
          onChange={(t) => {
            if (!t) return;
            form.setFieldValue('type', t as DatabaseType);
            form.clearFieldError('url');
          }}
        />
        <TextInput
          label="URL"
          description={`Host and port only, like ${urlExample(v.type)}: no login, path or query.`}
          required
          placeholder={urlExample(v.type)}
          {...form.getInputProps('url')}
        />
        <Group grow align="flex-start">
          <TextInput
            label="Database"
            description="Where the collection tables are created."
            required
            {...form.getInputProps('database')}
          />
          <TextInput
            label="Data source"
            description="Optional: a site or cluster name handed to devices."
            {...form.getInputProps('dataSource')}
          />
        </Group>
        <Fieldset legend="TLS">
          <Stack>
            <Switch
              label="Connect over TLS"
              description="Verifies the database's certificate. Turn off only for a database on a trusted network."
              {...form.getInputProps('tls', { type: 'checkbox' })}
            />
            <Textarea
              label="CA certificate (PEM)"
              description="The CA that signed the database's certificate; empty uses the system roots."
              placeholder="-----BEGIN CERTIFICATE-----"
              autosize
              minRows={3}
              maxRows={8}
              styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }}
              {...form.getInputProps('caCertificate')}
            />
          </Stack>
        </Fieldset>
        <Fieldset legend="Database login (write-only, stored encrypted)">
          <Group grow align="flex-start">
            {secret('username', 'Username', 'off')}
            {secret('password', 'Password', 'new-password')}
          </Group>
        </Fieldset>
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>
            Cancel
          </Button>
          <Button type="submit" loading={form.submitting}>
            {connection ? 'Save connection' : 'Add connection'}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
