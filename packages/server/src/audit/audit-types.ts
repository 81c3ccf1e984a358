/** Who did something: a signed-in user, an API token, a device, or the platform itself. */
export type AuditActorType = 'user' | 'token' | 'device' | 'system';

export interface AuditActor {
  type: AuditActorType;
  /** User id, token id, device id; null when unknown (e.g. a failed sign-in for no account). */
  id?: string | null;
  /** Human-readable: username, device id, or the system component. */
  name: string;
}

/** What an action was done to. */
export interface AuditTarget {
  type: string;
  id?: string | null;
  name?: string | null;
}

export type AuditResult = 'ok' | 'denied' | 'failed';

/** One event to record. Actions are dotted lower-case verbs on a noun: `user.create`. */
export interface AuditEvent {
  instanceId: string;
  actor: AuditActor;
  action: string;
  target?: AuditTarget | null;
  result: AuditResult;
  sourceAddress?: string | null;
  /** Extra facts (never secrets): reasons, changed fields. Stored as JSON. */
  details?: Record<string, unknown>;
}

/** Who is acting and from where: what a service needs to record an entry for its caller. */
export interface AuditContext {
  actor: AuditActor;
  sourceAddress?: string | null;
}

/** An entry as stored and read back. */
export interface AuditEntry {
  seq: number;
  at: string;
  actor: { type: AuditActorType; id: string | null; name: string };
  action: string;
  target: { type: string; id: string | null; name: string | null } | null;
  result: AuditResult;
  sourceAddress: string | null;
  details: Record<string, unknown>;
}

/** The exact stored fields the chain MAC covers. */
export interface ChainFields {
  seq: number;
  at: string;
  actorType: string;
  actorId: string | null;
  actorName: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  targetName: string | null;
  result: string;
  sourceAddress: string | null;
  details: string;
}

export interface ChainEntry extends ChainFields {
  mac: string;
}

export interface AuditCheckpoint {
  seq: number;
  mac: string;
  at: string;
  keyId: string;
  signature: string;
}

export type AuditProblemKind =
  | 'altered'
  | 'missing'
  | 'truncated'
  | 'head-mismatch'
  | 'checkpoint-invalid'
  | 'checkpoint-mismatch'
  | 'key';

export interface AuditProblem {
  /** The first sequence number concerned, when there is one. */
  seq: number | null;
  kind: AuditProblemKind;
  message: string;
}

/** What `trustlink audit verify` reports. */
export interface AuditVerification {
  ok: boolean;
  entries: number;
  lastSeq: number;
  headSeq: number | null;
  checkpoints: number;
  lastCheckpoint: { seq: number; at: string } | null;
  /** Entries after the last checkpoint: protected by the MAC chain but not yet by a signature. */
  uncheckpointed: number;
  problems: AuditProblem[];
}

export interface AuditQuery {
  /** Entries with seq below this (the page cursor); omit for the newest. */
  before?: number;
  limit: number;
  from?: string;
  to?: string;
  /** Case-insensitive text that must appear in the action, actor, target, address or details. */
  text?: string;
  action?: string;
  result?: AuditResult;
}
