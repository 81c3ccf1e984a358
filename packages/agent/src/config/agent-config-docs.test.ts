import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { withAgentConfigDocs } from './agent-config-docs.js';

/** Table rows without prettier's column padding, so the check ignores alignment only. */
function unpadTables(text: string): string {
  return text
    .split('\n')
    .map((l) => (l.startsWith('|') ? l.replace(/ {2,}/g, ' ').replace(/-{3,}/g, '---') : l))
    .join('\n');
}

describe('agent config docs', () => {
  it('ok/docs/agent.md lists every option as the schema describes it', () => {
    const text = readFileSync(new URL('../../../../docs/agent.md', import.meta.url), 'utf8');
    // On failure: node packages/agent/dist/cli.js config-docs --write docs/agent.md, then prettier.
    expect(unpadTables(withAgentConfigDocs(text))).toBe(unpadTables(text));
  });
});
