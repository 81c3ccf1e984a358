import {
  Alert,
  Anchor,
  Button,
  Center,
  Divider,
  Group,
  Loader,
  PasswordInput,
  Stack,
  Text,
  TextInput,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useEffect, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { ApiError } from '../api/api-client';
import { useApi } from '../api/api-context';
import { formProblem } from '../api/form-problems';
import { ProblemAlert } from '../components/problem-alert';
import {
  emailError,
  nameError,
  passwordError,
  setupTokenFromHash,
  totpCodeError,
  usernameError,
} from './account-rules';
import { checkSetupLink, claimInstance, type SetupCheckAnswer } from './auth-api';
import { AuthLayout } from './auth-layout';
import { RecoveryCodes } from './recovery-codes';
import { TotpEnrolmentPanel } from './totp-enrolment';

const FIELDS = ['username', 'firstName', 'lastName', 'email', 'password', 'confirm', 'code'];

/**
 * Reads the setup token once from the URL fragment and takes it out of the address bar and
 * history. The fragment never travels to the server with the page; the token goes only in the
 * body of the two setup calls.
 */
function useSetupToken(): string | null {
  const [token] = useState(() => setupTokenFromHash(window.location.hash));
  useEffect(() => {
    if (window.location.hash) {
      window.history.replaceState(null, '', window.location.pathname + window.location.search);
    }
  }, []);
  return token;
}

function SetupForm({
  token,
  check,
  onDone,
}: {
  token: string;
  check: SetupCheckAnswer;
  onDone: (codes: string[], username: string) => void;
}) {
  const api = useApi();
  const [error, setError] = useState<ApiError>();
  const [other, setOther] = useState<string[]>([]);
  const form = useForm({
    initialValues: {
      username: '',
      firstName: '',
      lastName: '',
      email: '',
      password: '',
      confirm: '',
      code: '',
    },
    validate: {
      username: usernameError,
      firstName: nameError,
      lastName: nameError,
      email: emailError,
      password: (v, all) => passwordError(v, all.username),
      confirm: (v, all) => (v === all.password ? null : 'The passwords differ'),
      code: totpCodeError,
    },
  });
  const submit = form.onSubmit(async (v) => {
    setError(undefined);
    setOther([]);
    try {
      const res = await claimInstance(api, {
        token,
        username: v.username,
        email: v.email.trim(),
        firstName: v.firstName.trim(),
        lastName: v.lastName.trim(),
        password: v.password,
        enrolmentId: check.totp.enrolmentId,
        code: v.code.replace(/\s/g, ''),
      });
      onDone(res.recoveryCodes, res.user.username);
    } catch (err) {
      const p = formProblem(err, FIELDS, {
        'weak-password': 'password',
        'invalid-second-factor': 'code',
      });
      form.setErrors(p.byField);
      setError(p.error);
      setOther(p.other);
    }
  });
  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        <Text size="sm">
          Create the first administrator of this instance. The link that opened this page works
          once.
        </Text>
        <ProblemAlert error={error} title="Setup failed" extra={other} />
        <TextInput
          label="Username"
          description="Letters, digits, hyphens and underscores; it cannot be changed later."
          autoComplete="username"
          required
          autoFocus
          {...form.getInputProps('username')}
        />
        <Group grow align="flex-start">
          <TextInput
            label="First name"
            autoComplete="given-name"
            required
            {...form.getInputProps('firstName')}
          />
          <TextInput
            label="Last name"
            autoComplete="family-name"
            required
            {...form.getInputProps('lastName')}
          />
        </Group>
        <TextInput
          label="Email"
          type="email"
          autoComplete="email"
          required
          {...form.getInputProps('email')}
        />
        <PasswordInput
          label="Password"
          description="At least 12 characters; a passphrase is best."
          autoComplete="new-password"
          required
          {...form.getInputProps('password')}
        />
        <PasswordInput
          label="Confirm password"
          autoComplete="new-password"
          required
          {...form.getInputProps('confirm')}
        />
        <Divider label="Two-factor authentication" labelPosition="left" />
        <TotpEnrolmentPanel totp={check.totp} />
        <TextInput
          label="Authentication code"
          description="The 6-digit code your app shows for Trustlink"
          inputMode="numeric"
          autoComplete="one-time-code"
          maxLength={7}
          required
          {...form.getInputProps('code')}
        />
        <Button type="submit" loading={form.submitting}>
          Create administrator
        </Button>
      </Stack>
    </form>
  );
}

/**
 * First run: the one-time link printed by `trustlink serve` opens this page. It checks the link,
 * shows the administrator's new authenticator, creates the account, then shows the recovery
 * codes once.
 */
export function SetupPage() {
  const api = useApi();
  const navigate = useNavigate();
  const token = useSetupToken();
  const [check, setCheck] = useState<SetupCheckAnswer>();
  const [error, setError] = useState<ApiError>();
  const [done, setDone] = useState<{ codes: string[]; username: string }>();

  useEffect(() => {
    if (!token) return;
    let live = true;
    checkSetupLink(api, token)
      .then((c) => live && setCheck(c))
      .catch((err: unknown) => {
        if (live && err instanceof ApiError) setError(err);
        else if (live) throw err;
      });
    return () => {
      live = false;
    };
  }, [api, token]);

  if (done) {
    return (
      <AuthLayout title="Recovery codes">
        <RecoveryCodes
          codes={done.codes}
          username={done.username}
          doneLabel="Continue to sign in"
          onDone={() => void navigate('/login', { replace: true })}
        />
      </AuthLayout>
    );
  }
  return (
    <AuthLayout title="Set up Trustlink" width={520}>
      {!token ? (
        <Alert color="orange" variant="light" title="No setup link">
          This page needs the one-time setup link that <code>trustlink serve</code> prints on its
          first start (it ends with <code>#token=…</code>). Open that link, or, if this instance is
          already set up,{' '}
          <Anchor component={Link} to="/login">
            sign in
          </Anchor>
          .
        </Alert>
      ) : error ? (
        <Stack>
          <ProblemAlert error={error} title="This setup link cannot be used" />
          <Button component={Link} to="/login" variant="default">
            Go to sign-in
          </Button>
        </Stack>
      ) : !check ? (
        <Center p="xl">
          <Loader aria-label="Checking the setup link" />
        </Center>
      ) : (
        <SetupForm
          token={token}
          check={check}
          onDone={(codes, username) => setDone({ codes, username })}
        />
      )}
    </AuthLayout>
  );
}
