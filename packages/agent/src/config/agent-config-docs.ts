import { readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { agentConfigSchema } from './agent-config-schema.js';

/** Markers around the generated option tables in docs/agent.md. */
export const DOCS_BEGIN =
  '<!-- agent-config:begin (generated from agent-config-schema.ts: trustlink-agent config-docs --write docs/agent.md) -->';
export const DOCS_END = '<!-- agent-config:end -->';

interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  pattern?: string;
  minimum?: number;
  maximum?: number;
}

function typeOf(s: JsonSchema): string {
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  if (s.enum) return s.enum.map((v) => `\`${String(v)}\``).join(', ');
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives) return alternatives.map(typeOf).join(' or ');
  if (s.type === 'array') return `array of ${typeOf(s.items ?? {})}`;
  if (s.type === 'object' && typeof s.additionalProperties === 'object')
    return `object of ${typeOf(s.additionalProperties)}`;
  if (s.type === 'integer' && s.minimum !== undefined) return `integer ${s.minimum}..${s.maximum}`;
  return String(s.type ?? 'value');
}

function row(name: string, s: JsonSchema, required: boolean): string {
  const def =
    s.default !== undefined && typeof s.default !== 'object'
      ? `\`${String(s.default)}\``
      : required
        ? 'required'
        : '(unset)';
  const text = (s.description ?? '').replace(/\|/g, '\\|');
  return `| \`${name}\` | ${typeOf(s).replace(/\|/g, '\\|')} | ${def} | ${text} |`;
}

function table(rows: string[]): string[] {
  return ['| option | type | default | meaning |', '| --- | --- | --- | --- |', ...rows];
}

function rowsOf(prefix: string, s: JsonSchema, skip: string[] = []): string[] {
  return Object.entries(s.properties ?? {})
    .filter(([k]) => !skip.includes(k))
    .map(([k, v]) => row(`${prefix}${k}`, v, s.required?.includes(k) ?? false));
}

/** The option tables of the configuration file, rendered from the schema's descriptions. */
export function renderAgentConfigDocs(): string {
  const root = z.toJSONSchema(agentConfigSchema, { io: 'input' }) as JsonSchema;
  const props = root.properties!;
  const out = [DOCS_BEGIN, '', ...table(rowsOf('', root, ['keyStore', 'hooks']))];
  out.push('', `### keyStore`, '', props.keyStore!.description ?? '');
  for (const variant of props.keyStore!.oneOf ?? props.keyStore!.anyOf ?? []) {
    const type = String(variant.properties!.type!.const);
    out.push('', `#### keyStore type \`${type}\``, '', variant.description ?? '', '');
    out.push(...table(rowsOf('keyStore.', variant, ['type'])));
  }
  out.push('', '### hooks', '', props.hooks!.description ?? '', '');
  out.push(...table(rowsOf('hooks.', props.hooks!)));
  out.push('', DOCS_END);
  return out.join('\n');
}

/** The file's text with the generated block replaced by the current rendering. */
export function withAgentConfigDocs(text: string): string {
  const begin = text.indexOf(DOCS_BEGIN);
  const end = text.indexOf(DOCS_END);
  if (begin < 0 || end < begin) throw new Error('the file has no agent-config markers');
  return text.slice(0, begin) + renderAgentConfigDocs() + text.slice(end + DOCS_END.length);
}

/** Rewrites the generated block of a documentation file. */
export function writeAgentConfigDocs(file: string): void {
  writeFileSync(file, withAgentConfigDocs(readFileSync(file, 'utf8')));
}
