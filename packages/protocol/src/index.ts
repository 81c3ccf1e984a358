/**
 * The device protocol shared by the server, the agent and the console (../../../shared/PROTOCOL.md
 * is the design; docs/device-protocol.md records where the implementation departs from it).
 */
export {
  PROTOCOL_VERSION,
  DEVICE_API_PREFIX,
  PROBLEM_TYPES,
  type ProblemType,
} from './protocol-constants.js';
