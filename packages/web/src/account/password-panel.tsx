import { Button, Group, Paper, PasswordInput, Stack, Text, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useState } from 'react';
import type { ApiError } from '../api/api-client';
import { useApi } from '../api/api-context';
import { formProblem } from '../api/form-problems';
import { notifySuccess } from '../components/notify';
import { ProblemAlert } from '../components/problem-alert';
import { passwordError } from '../session/account-rules';

/** Changes the user's own password; their other sessions end, this one stays. */
export function PasswordPanel({ username }: { username: string }) {
  const api = useApi();
  const [error, setError] = useState<ApiError>();
  const form = useForm({
    initialValues: { currentPassword: '', newPassword: '', confirm: '' },
    validate: {
      currentPassword: (v) => (v ? null : 'Enter your current password'),
      newPassword: (v) => passwordError(v, username),
      confirm: (v, all) => (v === all.newPassword ? null : 'The passwords differ'),
    },
  });
  const submit = form.onSubmit(async (v) => {
    setError(undefined);
    try {
      await api.post('/auth/password', {
        currentPassword: v.currentPassword,
        newPassword: v.newPassword,
      });
      form.reset();
      notifySuccess('Your password is changed; your other sessions have ended.');
    } catch (err) {
      const p = formProblem(err, ['currentPassword', 'newPassword'], {
        'wrong-password': 'currentPassword',
        'weak-password': 'newPassword',
      });
      form.setErrors(p.byField);
      setError(p.error);
    }
  });
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="password">
      <Title order={2} size="h4" id="password" mb="xs">
        Password
      </Title>
      <Text size="sm" c="dimmed" mb="md">
        Changing it signs you out everywhere else.
      </Text>
      <form onSubmit={submit} noValidate>
        <Stack maw={420}>
          <ProblemAlert error={error} title="The password was not changed" />
          <PasswordInput
            label="Current password"
            autoComplete="current-password"
            {...form.getInputProps('currentPassword')}
          />
          <PasswordInput
            label="New password"
            description="At least 12 characters; a passphrase is best."
            autoComplete="new-password"
            {...form.getInputProps('newPassword')}
          />
          <PasswordInput
            label="Confirm new password"
            autoComplete="new-password"
            {...form.getInputProps('confirm')}
          />
          <Group>
            <Button type="submit" loading={form.submitting}>
              Change password
            </Button>
          </Group>
        </Stack>
      </form>
    </Paper>
  );
}
