#!/usr/bin/env node
import { PROTOCOL_VERSION } from '@trustlink/protocol';

// The agent's commands (manufacture, enrol, run) arrive with the agent issue; until then it
// reports what it is and which protocol it speaks.
process.stdout.write(`trustlink-agent (device protocol v${PROTOCOL_VERSION})\n`);
