import { Alert, Anchor, Button, PasswordInput, Stack, Text, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useState } from 'react';
import { Navigate, useNavigate, useSearchParams } from 'react-router';
import { type ApiError } from '../api/api-client';
import { useApi } from '../api/api-context';
import { formProblem } from '../api/form-problems';
import { safeNext } from '../app/nav-fns';
import { ProblemAlert } from '../components/problem-alert';
import { totpCodeError } from './account-rules';
import {
  signInSecondFactor,
  signInWithPassword,
  type SignInAnswer,
  type TotpEnrolment,
} from './auth-api';
import { AuthLayout } from './auth-layout';
import { RecoveryCodes } from './recovery-codes';
import { useSession } from './session-context';
import { TotpEnrolmentPanel } from './totp-enrolment';

type Step =
  | { kind: 'password' }
  | { kind: 'code'; challenge: string }
  | { kind: 'enrol'; challenge: string; totp: TotpEnrolment }
  | { kind: 'recovery-codes'; codes: string[]; username: string };

function PasswordStep({ onAnswer }: { onAnswer: (a: SignInAnswer, username: string) => void }) {
  const api = useApi();
  const [error, setError] = useState<ApiError>();
  const form = useForm({
    initialValues: { username: '', password: '' },
    validate: {
      username: (v) => (v.trim() ? null : 'Enter your username'),
      password: (v) => (v ? null : 'Enter your password'),
    },
  });
  const submit = form.onSubmit(async (v) => {
    setError(undefined);
    try {
      onAnswer(await signInWithPassword(api, v.username.trim(), v.password), v.username.trim());
    } catch (err) {
      const p = formProblem(err, ['username', 'password']);
      form.setErrors(p.byField);
      setError(p.error);
    }
  });
  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        <ProblemAlert error={error} title="Sign-in failed" />
        <TextInput
          label="Username"
          autoComplete="username"
          required
          autoFocus
          {...form.getInputProps('username')}
        />
        <PasswordInput
          label="Password"
          autoComplete="current-password"
          required
          {...form.getInputProps('password')}
        />
        <Button type="submit" loading={form.submitting}>
          Continue
        </Button>
      </Stack>
    </form>
  );
}

function CodeStep({
  step,
  onAnswer,
  onRestart,
}: {
  step: Extract<Step, { kind: 'code' | 'enrol' }>;
  onAnswer: (a: SignInAnswer) => void;
  onRestart: () => void;
}) {
  const api = useApi();
  const [error, setError] = useState<ApiError>();
  const [useRecovery, setUseRecovery] = useState(false);
  const form = useForm({
    initialValues: { code: '', recoveryCode: '' },
    validate: {
      code: (v) => (useRecovery ? null : totpCodeError(v)),
      recoveryCode: (v) => (useRecovery && !v.trim() ? 'Enter one of your recovery codes' : null),
    },
  });
  const submit = form.onSubmit(async (v) => {
    setError(undefined);
    try {
      const answer = useRecovery
        ? { recoveryCode: v.recoveryCode.trim() }
        : { code: v.code.replace(/\s/g, '') };
      onAnswer(await signInSecondFactor(api, step.challenge, answer));
    } catch (err) {
      const p = formProblem(err, ['code', 'recoveryCode'], {
        'invalid-second-factor': useRecovery ? 'recoveryCode' : 'code',
        'replayed-second-factor': 'code',
      });
      form.setErrors(p.byField);
      setError(p.error);
    }
  });
  const expired = error?.problem.type.endsWith('/sign-in-expired');
  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        {step.kind === 'enrol' && (
          <>
            <Alert variant="light" title="Set up two-factor authentication">
              Your account needs an authenticator app before you can sign in.
            </Alert>
            <TotpEnrolmentPanel totp={step.totp} />
          </>
        )}
        <ProblemAlert error={error} title="Sign-in failed" />
        {useRecovery ? (
          <TextInput
            label="Recovery code"
            autoComplete="off"
            autoFocus
            {...form.getInputProps('recoveryCode')}
          />
        ) : (
          <TextInput
            label="Authentication code"
            description="The 6-digit code from your authenticator app"
            inputMode="numeric"
            autoComplete="one-time-code"
            maxLength={7}
            autoFocus
            {...form.getInputProps('code')}
          />
        )}
        <Button type="submit" loading={form.submitting}>
          {step.kind === 'enrol' ? 'Confirm and sign in' : 'Sign in'}
        </Button>
        {step.kind === 'code' && (
          <Anchor
            component="button"
            type="button"
            size="sm"
            onClick={() => setUseRecovery((r) => !r)}
          >
            {useRecovery
              ? 'Use a code from the app instead'
              : 'Lost your authenticator? Use a recovery code'}
          </Anchor>
        )}
        {expired && (
          <Button variant="default" onClick={onRestart}>
            Start again
          </Button>
        )}
      </Stack>
    </form>
  );
}

/**
 * Sign-in: password first, then the authenticator code (or a recovery code), or enrolment of
 * an authenticator when the account has none yet. Afterwards the user returns to the page that
 * sent them here (`?next=`), if it is a page of this console.
 */
export function LoginPage() {
  const { user, refresh } = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const [step, setStep] = useState<Step>({ kind: 'password' });
  const [username, setUsername] = useState('');

  const finish = async () => {
    await refresh();
    void navigate(next, { replace: true });
  };
  const onAnswer = (a: SignInAnswer, name = username) => {
    setUsername(name);
    if (a.status === 'second-factor-required') setStep({ kind: 'code', challenge: a.challenge });
    else if (a.status === 'enrolment-required') {
      setStep({ kind: 'enrol', challenge: a.challenge, totp: a.totp });
    } else if (a.recoveryCodes?.length) {
      setStep({ kind: 'recovery-codes', codes: a.recoveryCodes, username: name });
    } else void finish();
  };

  if (user && step.kind !== 'recovery-codes') return <Navigate to={next} replace />;

  return (
    <AuthLayout title={step.kind === 'recovery-codes' ? 'Recovery codes' : 'Sign in'}>
      {params.get('next') && step.kind === 'password' && (
        <Text size="sm" c="dimmed" mb="md">
          Sign in to continue.
        </Text>
      )}
      {step.kind === 'password' && <PasswordStep onAnswer={onAnswer} />}
      {(step.kind === 'code' || step.kind === 'enrol') && (
        <CodeStep
          step={step}
          onAnswer={(a) => onAnswer(a)}
          onRestart={() => setStep({ kind: 'password' })}
        />
      )}
      {step.kind === 'recovery-codes' && (
        <RecoveryCodes
          codes={step.codes}
          username={step.username}
          doneLabel="Continue to the console"
          onDone={() => void finish()}
        />
      )}
    </AuthLayout>
  );
}
