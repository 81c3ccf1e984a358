import { Button, Group, Paper, PasswordInput, Stack, Text, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useState } from 'react';
import type { ApiError } from '../api/api-client';
import { useApi } from '../api/api-context';
import { formProblem } from '../api/form-problems';
import { ProblemAlert } from '../components/problem-alert';
import { RecoveryCodes } from '../session/recovery-codes';

/** Replaces the user's recovery codes (the old ones stop working); needs the password. */
export function RecoveryCodesPanel({ username }: { username: string }) {
  const api = useApi();
  const [error, setError] = useState<ApiError>();
  const [codes, setCodes] = useState<string[]>();
  const form = useForm({
    initialValues: { password: '' },
    validate: { password: (v) => (v ? null : 'Enter your password') },
  });
  const submit = form.onSubmit(async (v) => {
    setError(undefined);
    try {
      const res = await api.post<{ recoveryCodes: string[] }>('/auth/recovery-codes', v);
      form.reset();
      setCodes(res.recoveryCodes);
    } catch (err) {
      const p = formProblem(err, ['password'], { 'wrong-password': 'password' });
      form.setErrors(p.byField);
      setError(p.error);
    }
  });
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="recovery">
      <Title order={2} size="h4" id="recovery" mb="xs">
        Recovery codes
      </Title>
      {codes ? (
        <RecoveryCodes
          codes={codes}
          username={username}
          doneLabel="Done"
          onDone={() => setCodes(undefined)}
        />
      ) : (
        <>
          <Text size="sm" c="dimmed" mb="md">
            Lost or used up your codes? New ones replace all the old ones.
          </Text>
          <form onSubmit={submit} noValidate>
            <Stack maw={420}>
              <ProblemAlert error={error} title="No new codes" />
              <PasswordInput
                label="Your password"
                autoComplete="current-password"
                {...form.getInputProps('password')}
              />
              <Group>
                <Button type="submit" variant="default" loading={form.submitting}>
                  Replace recovery codes
                </Button>
              </Group>
            </Stack>
          </form>
        </>
      )}
    </Paper>
  );
}
