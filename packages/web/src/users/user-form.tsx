import {
  Button,
  Group,
  PasswordInput,
  SegmentedControl,
  Stack,
  Switch,
  Text,
  TextInput,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useState } from 'react';
import type { ApiError } from '../api/api-client';
import { useApi } from '../api/api-context';
import { formProblem } from '../api/form-problems';
import type { Role } from '../app/nav-fns';
import { ProblemAlert } from '../components/problem-alert';
import type { SessionUser as User } from '../session/session-context';
import { emailError, nameError, passwordError, usernameError } from '../session/account-rules';

interface Values {
  username: string;
  firstName: string;
  lastName: string;
  email: string;
  role: Role;
  twoFactorEnabled: boolean;
  password: string;
  confirm: string;
}
const FIELDS = ['username', 'firstName', 'lastName', 'email', 'role', 'password', 'confirm'];
const CODE_FIELDS = {
  'weak-password': 'password',
  'username-taken': 'username',
  'invalid-username': 'username',
};

/**
 * Creates a user (no `user` given) or edits one. The username is fixed once created; a new
 * password is optional when editing. Validation mirrors the server's; its answer wins.
 */
export function UserForm({
  user,
  onSaved,
  onCancel,
}: {
  user?: User;
  onSaved: (u: User) => void;
  onCancel: () => void;
}) {
  const api = useApi();
  const editing = !!user;
  const [error, setError] = useState<ApiError>();
  const [other, setOther] = useState<string[]>([]);
  const form = useForm<Values>({
    initialValues: {
      username: user?.username ?? '',
      firstName: user?.firstName ?? '',
      lastName: user?.lastName ?? '',
      email: user?.email ?? '',
      role: user?.role ?? 'contributor',
      twoFactorEnabled: user?.twoFactorEnabled ?? true,
      password: '',
      confirm: '',
    },
    validate: {
      username: (v) => (editing ? null : usernameError(v)),
      firstName: nameError,
      lastName: nameError,
      email: emailError,
      password: (v, all) => (editing && !v ? null : passwordError(v, all.username)),
      confirm: (v, all) => (v === all.password ? null : 'The passwords differ'),
    },
  });

  const submit = form.onSubmit(async (v) => {
    setError(undefined);
    setOther([]);
    const common = {
      email: v.email.trim(),
      firstName: v.firstName.trim(),
      lastName: v.lastName.trim(),
      role: v.role,
      twoFactorEnabled: v.twoFactorEnabled,
    };
    try {
      const saved = editing
        ? await api.patch<User>(`/users/${user.id}`, {
            ...common,
            ...(v.password ? { password: v.password } : {}),
          })
        : await api.post<User>('/users', { ...common, username: v.username, password: v.password });
      onSaved(saved);
    } catch (err) {
      const p = formProblem(err, FIELDS, CODE_FIELDS);
      form.setErrors(p.byField);
      setError(p.error);
      setOther(p.other);
    }
  });

  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        <ProblemAlert error={error} title="The user was not saved" extra={other} />
        <TextInput
          label="Username"
          description={
            editing
              ? 'Usernames cannot be changed.'
              : 'Unique; letters, digits, hyphens and underscores; cannot be changed later.'
          }
          disabled={editing}
          required={!editing}
          autoComplete="off"
          data-autofocus
          {...form.getInputProps('username')}
        />
        <Group grow align="flex-start">
          <TextInput label="First name" required {...form.getInputProps('firstName')} />
          <TextInput label="Last name" required {...form.getInputProps('lastName')} />
        </Group>
        <TextInput label="Email" type="email" required {...form.getInputProps('email')} />
        <Stack gap={4}>
          <Text size="sm" fw={500} id="role-label">
            Role
          </Text>
          <SegmentedControl
            aria-labelledby="role-label"
            data={[
              { value: 'contributor', label: 'Contributor' },
              { value: 'administrator', label: 'Administrator' },
            ]}
            {...form.getInputProps('role')}
          />
          <Text size="xs" c="dimmed">
            Contributors cannot manage users, upload, sign or assign firmware, or see IoT hub
            secrets.
          </Text>
        </Stack>
        <Switch
          label="Two-factor authentication"
          description={
            form.values.twoFactorEnabled
              ? 'The user enrols an authenticator app at their next sign-in if they have none.'
              : 'Not recommended: the password alone will sign this user in.'
          }
          {...form.getInputProps('twoFactorEnabled', { type: 'checkbox' })}
        />
        <PasswordInput
          label={editing ? 'New password' : 'Password'}
          description={
            editing
              ? 'Leave empty to keep the current one. Setting one ends their sessions.'
              : 'At least 12 characters.'
          }
          required={!editing}
          autoComplete="new-password"
          {...form.getInputProps('password')}
        />
        <PasswordInput
          label="Confirm password"
          required={!editing}
          autoComplete="new-password"
          {...form.getInputProps('confirm')}
        />
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>
            Cancel
          </Button>
          <Button type="submit" loading={form.submitting}>
            {editing ? 'Save changes' : 'Create user'}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
