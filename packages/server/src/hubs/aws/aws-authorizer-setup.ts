import { createPublicKey } from 'node:crypto';
import {
  ClearDefaultAuthorizerCommand,
  CreateAuthorizerCommand,
  DeleteAuthorizerCommand,
  DescribeAuthorizerCommand,
  DescribeDefaultAuthorizerCommand,
  SetDefaultAuthorizerCommand,
  UpdateAuthorizerCommand,
} from '@aws-sdk/client-iot';
import { AddPermissionCommand, RemovePermissionCommand } from '@aws-sdk/client-lambda';
import type { KeyStore } from '../../keystore/keystore-types.js';
import type { StoredHub } from '../hub-repo.js';
import type { CloudObject, CloudObjectRepo } from '../cloud/cloud-object-repo.js';
import {
  authorizerDrift,
  signingKeyNameOf,
  statementIdOf,
  wantedAuthorizer,
  type AuthorizerSettings,
  type DescribedAuthorizer,
  type WantedAuthorizer,
} from './aws-authorizer-fns.js';

/** The service principal AWS IoT invokes authorizer functions as. */
export const IOT_PRINCIPAL = 'iot.amazonaws.com';

/** A Lambda function that does not exist (or is not visible to the key): a configuration error. */
export class FunctionNotFoundError extends Error {
  constructor(arn: string, detail: string) {
    super(`function not found: ${arn} (${detail})`);
    this.name = 'FunctionNotFoundError';
  }
}

export interface AuthorizerSetupDeps {
  instanceId: string;
  hub: StoredHub;
  objects: CloudObjectRepo;
  keystore: Pick<KeyStore, 'generate' | 'publicKey'>;
  /** Sends an AWS IoT command (errors translated). */
  send<T>(cmd: unknown): Promise<T>;
  /** Sends a Lambda command to the function's region (errors translated). */
  sendLambda<T>(functionArn: string, cmd: unknown): Promise<T>;
  now: () => Date;
}

const named = (err: unknown, name: string) => (err as { name?: string })?.name === name;

/**
 * Keeps the custom authorizer of an AWS IoT Core hub in line with its settings: the signing
 * key (made once in the key store; only its public half goes to AWS), the authorizer itself
 * (created, or updated when the function, token key name, keys or status differ from what
 * DescribeAuthorizer shows), the Lambda permission that lets AWS IoT invoke the function for
 * this authorizer, and the account's default authorizer. An authorizer the settings no longer
 * ask for (custom authentication off, or renamed) is cleared as default, deactivated and
 * deleted, and its permission removed. Each step is recorded in hub_cloud_objects; a run
 * after a failure redoes only what is missing, and "already exists"/"not found" answers that
 * mean the step is done count as done.
 */
export function createAuthorizerSetup(deps: AuthorizerSetupDeps) {
  const { instanceId, hub, objects, send, sendLambda, now } = deps;
  const s = hub.settings as unknown as AuthorizerSettings;
  const at = () => now().toISOString();
  const put = (o: Omit<CloudObject, 'updatedAt'>) => objects.put(instanceId, o, at());
  const ofKind = async (kind: CloudObject['kind']) =>
    (await objects.ofHub(instanceId, hub.id, kind)).filter(
      (o) => o.state !== 'deleted' && o.state !== 'removed',
    );

  /** The hub's token signing key (RSA-2048: AWS wants at least 2048 bits), made on first use. */
  async function signingKey(): Promise<{ keyId: string; keyName: string; pem: string }> {
    const [known] = await ofKind('authorizer-key');
    const keyId =
      known?.localId ??
      (
        await deps.keystore.generate(instanceId, {
          algorithm: 'RSA-2048',
          label: `aws-iot-authorizer ${hub.id}`,
          purpose: 'jwt',
        })
      ).id;
    const rec = await deps.keystore.publicKey(instanceId, keyId);
    const pem = createPublicKey({ key: rec.publicKeyDer, format: 'der', type: 'spki' })
      .export({ type: 'spki', format: 'pem' })
      .toString();
    const keyName = signingKeyNameOf(keyId);
    if (!known)
      await put({
        hubId: hub.id,
        kind: 'authorizer-key',
        localId: keyId,
        deviceId: null,
        remoteId: keyName,
        state: 'active',
      });
    return { keyId, keyName, pem };
  }

  async function describe(
    name: string,
  ): Promise<(DescribedAuthorizer & { authorizerArn?: string }) | undefined> {
    try {
      const r = await send<{
        authorizerDescription?: DescribedAuthorizer & { authorizerArn?: string };
      }>(new DescribeAuthorizerCommand({ authorizerName: name }));
      return r.authorizerDescription;
    } catch (err) {
      if (named(err, 'ResourceNotFoundException')) return undefined;
      throw err;
    }
  }

  async function defaultName(): Promise<string | undefined> {
    try {
      const r = await send<{ authorizerDescription?: { authorizerName?: string } }>(
        new DescribeDefaultAuthorizerCommand({}),
      );
      return r.authorizerDescription?.authorizerName;
    } catch (err) {
      if (named(err, 'ResourceNotFoundException')) return undefined;
      throw err;
    }
  }

  async function ensureAuthorizer(want: WantedAuthorizer): Promise<CloudObject> {
    const key = await signingKey();
    const keys = { [key.keyName]: key.pem };
    const have = await describe(want.name);
    let arn: string;
    if (!have) {
      try {
        const r = await send<{ authorizerArn?: string }>(
          new CreateAuthorizerCommand({
            authorizerName: want.name,
            authorizerFunctionArn: want.functionArn,
            tokenKeyName: want.tokenKeyName,
            tokenSigningPublicKeys: keys,
            status: 'ACTIVE',
            signingDisabled: false,
          }),
        );
        arn = r.authorizerArn!;
      } catch (err) {
        // Created by a run whose answer was lost: the next run describes and updates it.
        if (named(err, 'ResourceAlreadyExistsException'))
          throw new Error(`authorizer ${want.name} appeared meanwhile; will compare on retry`);
        throw err;
      }
    } else {
      if (have.signingDisabled)
        throw new Error(
          `an authorizer named ${want.name} exists in AWS IoT with token signing disabled; ` +
            'choose another customAuthorizerName or delete that authorizer',
        );
      if (authorizerDrift(have, want, keys).length)
        await send(
          new UpdateAuthorizerCommand({
            authorizerName: want.name,
            authorizerFunctionArn: want.functionArn,
            tokenKeyName: want.tokenKeyName,
            tokenSigningPublicKeys: keys,
            status: 'ACTIVE',
          }),
        );
      arn = have.authorizerArn!;
    }
    const prev = (await ofKind('authorizer')).find((o) => o.localId === want.name);
    const o = {
      hubId: hub.id,
      kind: 'authorizer' as const,
      localId: want.name,
      deviceId: null,
      remoteId: arn,
      state: prev?.state === 'default' ? 'default' : 'active',
    };
    await put(o);
    return { ...o, updatedAt: at() };
  }

  /** Lets AWS IoT invoke the function, for this authorizer only (SourceArn). */
  async function ensurePermission(want: WantedAuthorizer, authorizerArn: string): Promise<void> {
    const statementId = statementIdOf(want.name);
    const localId = `${want.functionArn}|${statementId}`;
    const mine = await ofKind('lambda-permission');
    if (want.grantInvoke && !mine.some((p) => p.localId === localId)) {
      try {
        await sendLambda(
          want.functionArn,
          new AddPermissionCommand({
            FunctionName: want.functionArn,
            StatementId: statementId,
            Action: 'lambda:InvokeFunction',
            Principal: IOT_PRINCIPAL,
            SourceArn: authorizerArn,
          }),
        );
      } catch (err) {
        // The statement exists (an earlier run whose answer was lost): done.
        if (!named(err, 'ResourceConflictException')) throw err;
      }
      await put({
        hubId: hub.id,
        kind: 'lambda-permission',
        localId,
        deviceId: null,
        remoteId: statementId,
        state: 'active',
      });
    }
    // Statements for a function no longer used (the ARN changed) go once the new one is in;
    // with grantInvoke off the user manages the permission, so ours go.
    for (const p of mine)
      if ((p.localId !== localId || !want.grantInvoke) && p.remoteId === statementId)
        await removePermission(p);
  }

  async function removePermission(p: CloudObject): Promise<void> {
    const functionArn = p.localId.split('|')[0]!;
    try {
      await sendLambda(
        functionArn,
        new RemovePermissionCommand({ FunctionName: functionArn, StatementId: p.remoteId }),
      );
    } catch (err) {
      // Gone already (or the function itself is gone): nothing to remove.
      if (!named(err, 'ResourceNotFoundException') && !(err instanceof FunctionNotFoundError))
        throw err;
    }
    await put({ ...p, state: 'removed' });
  }

  async function ensureDefault(want: WantedAuthorizer, o: CloudObject): Promise<void> {
    if (want.asDefault) {
      if ((await defaultName()) !== want.name)
        await send(new SetDefaultAuthorizerCommand({ authorizerName: want.name }));
      if (o.state !== 'default') await put({ ...o, state: 'default' });
    } else if (o.state === 'default') {
      // Only ours is cleared: another authorizer made default meanwhile is the user's.
      if ((await defaultName()) === want.name) await send(new ClearDefaultAuthorizerCommand({}));
      await put({ ...o, state: 'active' });
    }
  }

  /** Takes an authorizer of ours out of use: not default, INACTIVE, deleted, permission removed. */
  async function retire(o: CloudObject): Promise<void> {
    if (o.state === 'default' && (await defaultName()) === o.localId)
      await send(new ClearDefaultAuthorizerCommand({}));
    const have = await describe(o.localId);
    if (have) {
      // AWS deletes only inactive authorizers.
      if (have.status !== 'INACTIVE')
        await send(new UpdateAuthorizerCommand({ authorizerName: o.localId, status: 'INACTIVE' }));
      try {
        await send(new DeleteAuthorizerCommand({ authorizerName: o.localId }));
      } catch (err) {
        if (!named(err, 'ResourceNotFoundException')) throw err;
      }
    }
    const statementId = statementIdOf(o.localId);
    for (const p of await ofKind('lambda-permission'))
      if (p.remoteId === statementId) await removePermission(p);
    await put({ ...o, state: 'deleted' });
  }

  return {
    /** Brings AWS in line with the hub's custom-authentication settings; idempotent. */
    async run(): Promise<void> {
      const want = wantedAuthorizer(hub.id, s);
      if (want) {
        const o = await ensureAuthorizer(want);
        await ensurePermission(want, o.remoteId);
        await ensureDefault(want, o);
      }
      for (const o of await ofKind('authorizer')) if (o.localId !== want?.name) await retire(o);
    },
    /** For the status check: the authorizer as AWS shows it, against what the hub asks for. */
    async check(): Promise<{ ok: boolean; detail: string } | undefined> {
      const want = wantedAuthorizer(hub.id, s);
      if (!want) return undefined;
      const have = await describe(want.name);
      if (!have) return { ok: false, detail: `custom authorizer ${want.name} is not set up yet` };
      const [key] = await ofKind('authorizer-key');
      const keys: Record<string, string> = {};
      if (key) {
        const rec = await deps.keystore.publicKey(instanceId, key.localId);
        keys[key.remoteId] = createPublicKey({
          key: rec.publicKeyDer,
          format: 'der',
          type: 'spki',
        })
          .export({ type: 'spki', format: 'pem' })
          .toString();
      }
      const drift = authorizerDrift(have, want, keys);
      return drift.length
        ? { ok: false, detail: `custom authorizer ${want.name} differs in ${drift.join(', ')}` }
        : { ok: true, detail: `custom authorizer ${want.name} ${have.status}` };
    },
  };
}
