import { Accordion, Button, FileButton, Group, Stack, Textarea, TextInput } from '@mantine/core';
import { IconFileUpload } from '@tabler/icons-react';
import { useEffect, useRef } from 'react';
import { useApiQuery } from '../api/use-api-query';
import { textOf, type CloudDefaults } from './cloud-hub-fns';
import type { HubFieldsProps } from './hub-form-registry';

const MONO = { input: { fontFamily: 'var(--mantine-font-family-monospace)', fontSize: 12 } };

/**
 * Fills a new hub's empty fields with the server's defaults for its type (vendor root CAs, the
 * AWS policy template) once they arrive, so the user sees and can change what would be used.
 */
export function usePrefill<T extends keyof CloudDefaults>(type: T, props: HubFieldsProps) {
  const { data } = useApiQuery<CloudDefaults>(props.hub ? null : '/hubs/defaults');
  // Read at the time the defaults arrive, not a reason to fill again: afterwards an emptied
  // box is the user's choice.
  const current = useRef(props);
  current.current = props;
  useEffect(() => {
    if (!data) return;
    const { values, set } = current.current;
    for (const [k, v] of Object.entries(data[type]))
      if (typeof v === 'string' && !textOf(values[k])) set(k, v);
  }, [data, type]);
}

/** A PEM bundle in a text box, with a button to load it from a file. */
export function PemField({
  field,
  label,
  description,
  values,
  errors,
  set,
}: HubFieldsProps & { field: string; label: string; description: string }) {
  return (
    <Stack gap={4}>
      <Textarea
        label={label}
        description={description}
        autosize
        minRows={2}
        maxRows={8}
        styles={MONO}
        value={String(values[field] ?? '')}
        error={errors[field]}
        onChange={(e) => set(field, e.currentTarget.value)}
      />
      <Group>
        <FileButton
          accept=".pem,.crt,.cer,application/x-pem-file"
          onChange={(f) => void f?.text().then((t) => set(field, t))}
        >
          {(p) => (
            <Button
              {...p}
              variant="default"
              size="xs"
              aria-label={`Load ${label.toLowerCase()} from a file`}
              leftSection={<IconFileUpload size={14} aria-hidden />}
            >
              Load from a file
            </Button>
          )}
        </FileButton>
      </Group>
    </Stack>
  );
}

/**
 * The API endpoint override and the extra CA to trust for it: rarely set (a private endpoint,
 * an inspecting proxy), so folded away unless a value or a complaint is there.
 */
export function ApiEndpointFields(
  props: HubFieldsProps & { endpoint: boolean; defaultEndpoint: string },
) {
  const { values, errors, set, endpoint, defaultEndpoint } = props;
  const open =
    !!textOf(values.apiEndpoint) ||
    !!textOf(values.apiCaCertificate) ||
    !!errors.apiEndpoint ||
    !!errors.apiCaCertificate;
  return (
    <Accordion variant="contained" defaultValue={open ? 'api' : null}>
      <Accordion.Item value="api">
        <Accordion.Control>API endpoint (advanced)</Accordion.Control>
        <Accordion.Panel>
          <Stack>
            {endpoint && (
              <TextInput
                label="API endpoint"
                description={`Where this platform calls the cloud's API. Empty: ${defaultEndpoint}.`}
                placeholder={defaultEndpoint}
                value={String(values.apiEndpoint ?? '')}
                error={errors.apiEndpoint}
                onChange={(e) => set('apiEndpoint', e.currentTarget.value)}
              />
            )}
            <PemField
              {...props}
              field="apiCaCertificate"
              label="API CA certificate"
              description="An extra CA to trust for the API (a private endpoint or an inspecting proxy). Usually empty."
            />
          </Stack>
        </Accordion.Panel>
      </Accordion.Item>
    </Accordion>
  );
}
