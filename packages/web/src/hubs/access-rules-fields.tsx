import { Fieldset, SimpleGrid, Text, Textarea } from '@mantine/core';
import { DEFAULT_RULES, filterListProblem, filtersOfText, rulesOf } from './hub-fns';
import type { HubFieldsProps } from './hub-form-registry';
import type { AccessRules, Hub } from './hub-types';

const LISTS = [
  ['rules.device.publish', 'Devices may publish to'],
  ['rules.device.subscribe', 'Devices may subscribe to'],
  ['rules.tool.publish', 'Tools may publish to'],
  ['rules.tool.subscribe', 'Tools may subscribe to'],
] as const;

export const RULE_FIELDS = LISTS.map(([f]) => f);

/** Form values of a hub's rules: each list as text, one filter a line. */
export function rulesValues(hub?: Hub): Record<string, string> {
  const r = hub ? rulesOf(hub) : DEFAULT_RULES;
  return {
    'rules.device.publish': r.device.publish.join('\n'),
    'rules.device.subscribe': r.device.subscribe.join('\n'),
    'rules.tool.publish': r.tool.publish.join('\n'),
    'rules.tool.subscribe': r.tool.subscribe.join('\n'),
  };
}

export function rulesProblems(values: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [f] of LISTS) {
    const p = filterListProblem(filtersOfText(String(values[f] ?? '')));
    if (p) out[f] = p;
  }
  return out;
}

export function rulesOfValues(values: Record<string, unknown>): AccessRules {
  const list = (f: string) => filtersOfText(String(values[f] ?? ''));
  return {
    device: { publish: list('rules.device.publish'), subscribe: list('rules.device.subscribe') },
    tool: { publish: list('rules.tool.publish'), subscribe: list('rules.tool.subscribe') },
  };
}

/** Who may publish and subscribe to what on the hub's broker, one topic filter a line. */
export function AccessRulesFields({ values, errors, set }: HubFieldsProps) {
  return (
    <Fieldset legend="Access rules">
      <Text size="xs" c="dimmed" mb="sm">
        MQTT topic filters, one a line. The level <code>{'{clientId}'}</code> stands for the
        connected client&apos;s own ID (the device ID for devices). An empty list allows nothing.
      </Text>
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        {LISTS.map(([f, label]) => (
          <Textarea
            key={f}
            label={label}
            autosize
            minRows={2}
            maxRows={6}
            styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }}
            value={String(values[f] ?? '')}
            error={errors[f]}
            onChange={(e) => set(f, e.currentTarget.value)}
          />
        ))}
      </SimpleGrid>
    </Fieldset>
  );
}
