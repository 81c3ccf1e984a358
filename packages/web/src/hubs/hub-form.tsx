import { Button, Group, Select, Stack, Text, TextInput } from '@mantine/core';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { ApiError } from '../api/api-client';
import { useApi } from '../api/api-context';
import { problemCode } from '../api/problem-fns';
import { ProblemAlert } from '../components/problem-alert';
import { hubNameProblem, secretsToSend, settingsFieldErrors } from './hub-fns';
import { HUB_FORMS, hubFormOf } from './hub-form-registry';
import type { Hub } from './hub-types';

/**
 * Creates a hub (its type chosen from those with a form) or changes one (the type is fixed: the
 * server refuses a change of type). Checks what the server checks before sending and puts the
 * server's complaints beside their fields.
 */
export function HubForm({
  hub,
  onSaved,
  onCancel,
}: {
  hub?: Hub;
  onSaved: (h: Hub) => void;
  onCancel: () => void;
}) {
  const api = useApi();
  const [name, setName] = useState(hub?.name ?? '');
  const [type, setType] = useState(hub?.type ?? HUB_FORMS[0]!.type);
  const entry = hubFormOf(type)!;
  const [values, setValues] = useState<Record<string, unknown>>(() => entry.initial(hub));
  const [errors, setErrors] = useState<Record<string, string | undefined>>({});
  const [error, setError] = useState<ApiError>();
  const [other, setOther] = useState<string[]>([]);
  const alertRef = useRef<HTMLDivElement>(null);
  // The submit button is at the bottom of a long form: bring the server's refusal into view.
  useEffect(() => {
    if (error) alertRef.current?.scrollIntoView({ block: 'nearest' });
  }, [error]);
  const [busy, setBusy] = useState(false);

  const set = (field: string, value: unknown) => {
    setValues((v) => ({ ...v, [field]: value }));
    setErrors((e) => ({ ...e, [field]: undefined }));
  };

  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    setError(undefined);
    setOther([]);
    const found: Record<string, string> = { ...entry.validate(values) };
    const n = hubNameProblem(name);
    if (n) found.name = `Name ${n}.`;
    setErrors(found);
    if (Object.keys(found).length) return;
    const body = {
      name: name.trim(),
      type,
      settings: {
        ...entry.toSettings(values, hub),
        ...secretsToSend(values as Record<string, string>, entry.secretFields),
      },
    };
    setBusy(true);
    try {
      onSaved(
        hub ? await api.put<Hub>(`/hubs/${hub.id}`, body) : await api.post<Hub>('/hubs', body),
      );
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const { byField, other: rest } = settingsFieldErrors(err.problem.errors, entry.fields);
      if (problemCode(err.problem) === 'name-taken') byField.name = err.problem.detail;
      setErrors(byField);
      setOther(rest);
      // The alert carries the server's message unless it only repeats what sits by the fields
      // (a schema refusal's detail is its field errors joined).
      const joined = (err.problem.errors ?? []).map((e) => `${e.path}: ${e.message}`).join('; ');
      const placed = Object.keys(byField).length > 0 && !rest.length;
      setError(placed && err.problem.detail === joined ? undefined : err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      onSubmit={(e) => void submit(e)}
      noValidate
      aria-label={hub ? 'Edit IoT hub' : 'Create IoT hub'}
    >
      <Stack>
        <div ref={alertRef}>
          <ProblemAlert error={error} title="The IoT hub was not saved" extra={other} />
        </div>
        <TextInput
          label="IoT hub name"
          description="Unique; letters, digits, spaces, dot, underscore and hyphen."
          required
          data-autofocus
          value={name}
          error={errors.name}
          onChange={(e) => {
            setName(e.currentTarget.value);
            setErrors((x) => ({ ...x, name: undefined }));
          }}
        />
        <Select
          label="IoT hub type"
          allowDeselect={false}
          disabled={!!hub}
          data={HUB_FORMS.map((f) => ({ value: f.type, label: f.label }))}
          value={type}
          onChange={(t) => {
            if (!t) return;
            setType(t);
            setValues(hubFormOf(t)!.initial());
            setErrors({});
          }}
        />
        <Text size="xs" c="dimmed" mt={-8}>
          {entry.description}
        </Text>
        <entry.Fields values={values} errors={errors} set={set} hub={hub} />
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>
            Cancel
          </Button>
          <Button type="submit" loading={busy}>
            {hub ? 'Save IoT hub' : 'Create IoT hub'}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
