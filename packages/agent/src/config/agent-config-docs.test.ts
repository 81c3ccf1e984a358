import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { withAgentConfigDocs } from './agent-config-docs.js';

describe('agent config docs', () => {
  it('ok/docs/agent.md lists every option as the schema describes it', () => {
    const file = new URL('../../../../docs/agent.md', import.meta.url);
    const text = readFileSync(file, 'utf8');
    // On failure: node packages/agent/dist/cli.js config-docs --write docs/agent.md
    expect(withAgentConfigDocs(text)).toBe(text);
  });
});
