import type { ComponentType } from 'react';
import type { Hub } from './hub-types';
import { AWS_FORM } from './aws-hub-form';
import { AZURE_IOT_CENTRAL_FORM, AZURE_IOT_HUB_FORM } from './azure-hub-forms';
import { MOSQUITTO_FORM } from './mosquitto-hub-form';
import { MQTT_FORM } from './mqtt-hub-form';

/** What a type's fields get from the hub form. */
export interface HubFieldsProps {
  values: Record<string, unknown>;
  errors: Record<string, string | undefined>;
  set: (field: string, value: unknown) => void;
  /** The hub being edited; undefined when creating (secrets then have nothing to keep). */
  hub?: Hub;
}

/**
 * One hub type's form. Adding a type (AWS IoT Core, Azure…) is one file exporting such an
 * entry and one line in HUB_FORMS; the form, list and tools follow. Keys of `values` and
 * `fields` are paths under `settings` as the server reports them (`rules.device.publish`).
 */
export interface HubFormEntry {
  type: string;
  label: string;
  /** One or two sentences under the type select. */
  description: string;
  /** Whether the hub's broker takes third-party tools (MQTT and Mosquitto). */
  hasTools: boolean;
  /** Write-only fields: never read back, left out when left empty (see SecretInput). */
  secretFields: readonly string[];
  /** Fields the server may complain about, for putting its messages beside them. */
  fields: readonly string[];
  initial: (hub?: Hub) => Record<string, unknown>;
  validate: (values: Record<string, unknown>) => Record<string, string>;
  toSettings: (values: Record<string, unknown>, hub?: Hub) => Record<string, unknown>;
  /** One line of the hub's settings for the list. */
  summary: (hub: Hub) => string;
  Fields: ComponentType<HubFieldsProps>;
}

/** The hub types this console has a form for, in the order the type select offers them. */
export const HUB_FORMS: readonly HubFormEntry[] = [
  MQTT_FORM,
  MOSQUITTO_FORM,
  AWS_FORM,
  AZURE_IOT_HUB_FORM,
  AZURE_IOT_CENTRAL_FORM,
];

export function hubFormOf(type: string): HubFormEntry | undefined {
  return HUB_FORMS.find((f) => f.type === type);
}
