/**
 * The device protocol shared by the server, the agent and the console (../../../shared/PROTOCOL.md
 * is the design; docs/device-protocol.md is the wire contract as implemented and records where it
 * departs from the design).
 */
export {
  PROTOCOL_VERSION,
  DEVICE_API_PREFIX,
  MAX_BODY_BYTES,
  PROBLEM_TYPES,
  type ProblemType,
} from './protocol-constants.js';
export { type Result } from './result.js';
export { toBase64url, fromBase64url } from './encoding/base64url.js';

// Identity (D1)
export {
  KEY_TYPES,
  type KeyType,
  type SignatureScheme,
  type Signer,
  schemeOfKeyType,
} from './identity/key-types.js';
export {
  type SpkiFailure,
  type CanonicalKey,
  parseCanonicalSpki,
} from './identity/spki-canonical.js';
export {
  DEVICE_ID_PATTERN,
  deviceIdFromSpki,
  keyTypeOfSpki,
  isDeviceId,
} from './identity/device-id.js';
export { spkiFromCertificate, spkiFromParsedCertificate } from './identity/certificate-spki.js';
export {
  ecdsaDerToRaw,
  ecdsaRawToDer,
  keyTypeOfKeyObject,
  nodeKeySigner,
  verifySignature,
} from './identity/signatures.js';

// Challenge and proof of possession
export {
  CHALLENGE_TTL_SECONDS,
  CHALLENGE_MAX_TTL_SECONDS,
  CHALLENGE_NONCE_LENGTH,
  type Challenge,
  type ChallengeFailure,
  issueChallenge,
  checkChallenge,
} from './challenge/challenge-nonce.js';
export {
  PROOF_CONTEXT,
  PROOF_PURPOSES,
  type ProofPurpose,
  type ProofRequest,
  type ProofFields,
  ProofInputError,
  buildProofInput,
  normaliseProofHost,
} from './proof/proof-input.js';
export {
  PROOF_HEADER,
  PROOF_HEADER_MAX_LENGTH,
  type ProofCredential,
  type ProofHeader,
  formatProofHeader,
  parseProofHeader,
} from './proof/proof-header.js';
export { signProof, createProofHeader } from './proof/proof-sign.js';
export {
  type ProofFailure,
  type VerifiedProof,
  type ProofExpectation,
  verifyProof,
} from './proof/proof-verify.js';

// Signed documents
export {
  type JwsAlg,
  type JwsHeader,
  type JwsFailure,
  JWS_MAX_LENGTH,
  jwsAlgOfKeyType,
  signJws,
  verifyJws,
} from './jws/jws-compact.js';
export {
  MANIFEST_JWS_TYPE,
  manifestPayloadSchema,
  hardwareAttributesSchema,
  type ManifestPayload,
} from './manifest/manifest-payload.js';
export { signManifest } from './manifest/manifest-sign.js';
export {
  type ManifestFailure,
  type ManifestExpectation,
  verifyManifest,
  checkImageAgainstManifest,
} from './manifest/manifest-verify.js';
export {
  TIME_JWS_TYPE,
  deviceNonceSchema,
  timeStatementSchema,
  type TimeStatement,
  type TimeFailure,
  signTimeStatement,
  verifyTimeStatement,
} from './time/time-statement.js';

// Device API messages, one module per flow
export {
  base64urlSchema,
  derSchema,
  isoTimeSchema,
  deviceIdSchema,
  opaqueIdSchema,
  sha256HexSchema,
} from './messages/common-schemas.js';
export * from './messages/challenge-messages.js';
export * from './messages/enrol-messages.js';
export * from './messages/session-messages.js';
export * from './messages/status-messages.js';
export * from './messages/certificate-messages.js';
export * from './messages/update-messages.js';
export * from './messages/database-token-messages.js';
export * from './messages/hub-token-messages.js';
export * from './messages/time-messages.js';
export * from './messages/problem-messages.js';

// Provisioning from the console (docs/provisioning-device.md)
export {
  PROVISIONING_CONFIG_MAGIC,
  PROVISIONING_CONFIG_VERSION,
  PROVISIONING_CONFIG_OFFSET,
  PROVISIONING_CONFIG_MAX_BYTES,
  wifiSchema,
  provisioningConfigSchema,
  type ProvisioningConfig,
  type ProvisioningConfigFailure,
  encodeProvisioningConfig,
  decodeProvisioningConfig,
} from './provisioning/provisioning-config.js';
export {
  IDENTITY_LINE_PREFIX,
  IDENTITY_LINE_VERSION,
  IDENTITY_LINE_MAX_LENGTH,
  type IdentityLineFailure,
  formatIdentityLine,
  parseIdentityLine,
} from './provisioning/identity-line.js';
