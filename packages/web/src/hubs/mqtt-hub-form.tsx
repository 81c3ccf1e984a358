import { Stack } from '@mantine/core';
import {
  AccessRulesFields,
  RULE_FIELDS,
  rulesOfValues,
  rulesProblems,
  rulesValues,
} from './access-rules-fields';
import type { HubFieldsProps, HubFormEntry } from './hub-form-registry';
import { rulesOf } from './hub-fns';

function MqttFields(props: HubFieldsProps) {
  return (
    <Stack>
      <AccessRulesFields {...props} />
    </Stack>
  );
}

/**
 * An MQTT hub: a broker of its own inside this platform, on the shared TLS port (8883 by
 * default), with its own topic space. Only its access rules are set.
 */
export const MQTT_FORM: HubFormEntry = {
  type: 'mqtt',
  label: 'MQTT (embedded broker)',
  description:
    'A broker run by this platform, with its own topic space. Devices connect with their certificate (client ID = device ID); revoked devices are cut off.',
  hasTools: true,
  secretFields: [],
  fields: RULE_FIELDS,
  initial: (hub) => rulesValues(hub),
  validate: rulesProblems,
  toSettings: (v) => ({ rules: rulesOfValues(v) }),
  summary: (hub) => {
    const r = rulesOf(hub);
    return `devices publish to ${r.device.publish.join(', ') || 'nothing'}`;
  },
  Fields: MqttFields,
};
