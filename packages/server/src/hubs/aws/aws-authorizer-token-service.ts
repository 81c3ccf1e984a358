import { randomUUID } from 'node:crypto';
import { toBase64url, type HubTokenResponse } from '@trustlink/protocol';
import type { KeyStore } from '../../keystore/keystore-types.js';
import { ConflictError, NotFoundError } from '../../lib/errors.js';
import type { CloudObjectRepo } from '../cloud/cloud-object-repo.js';
import type { HubDirectory } from '../hub-directory.js';
import {
  authorizerTokenInput,
  mqttUsername,
  wantedAuthorizer,
  type AuthorizerSettings,
} from './aws-authorizer-fns.js';

export interface AuthorizerTokenDeps {
  directory: Pick<HubDirectory, 'hubOfDevice'>;
  objects: Pick<CloudObjectRepo, 'ofHub'>;
  keystore: Pick<KeyStore, 'sign'>;
  now: () => Date;
}

/**
 * Signs custom-authorizer tokens for devices of an AWS IoT Core hub with custom
 * authentication, with the hub's signing key in the key store (its private part never leaves
 * it). A token is handed out only once the authorizer is set up in AWS, so a device never
 * holds a token AWS cannot check yet.
 */
export function createAuthorizerTokens(deps: AuthorizerTokenDeps) {
  return {
    async issue(instanceId: string, deviceId: string): Promise<HubTokenResponse> {
      const found = await deps.directory.hubOfDevice(instanceId, deviceId);
      const hub = found.ok ? found.hub : undefined;
      const want =
        hub?.type === 'aws-iot-core'
          ? wantedAuthorizer(hub.id, hub.settings as unknown as AuthorizerSettings)
          : undefined;
      if (!hub || !want) throw new NotFoundError("the device's hub has no custom authentication");
      const authorizers = await deps.objects.ofHub(instanceId, hub.id, 'authorizer');
      const ready = authorizers.some(
        (o) => o.localId === want.name && (o.state === 'active' || o.state === 'default'),
      );
      const [key] = (await deps.objects.ofHub(instanceId, hub.id, 'authorizer-key')).filter(
        (o) => o.state === 'active',
      );
      if (!ready || !key)
        throw new ConflictError(
          `custom authorizer ${want.name} is not set up in AWS IoT yet; try again shortly`,
          'not-ready',
        );
      const t = deps.now();
      const iat = Math.floor(t.getTime() / 1000);
      const exp = iat + want.tokenMinutes * 60;
      const input = authorizerTokenInput(key.remoteId, {
        iss: instanceId,
        sub: deviceId,
        aud: want.name,
        iat,
        nbf: iat,
        exp,
        jti: randomUUID(),
      });
      const sign = (data: string) =>
        deps.keystore.sign(instanceId, key.localId, Buffer.from(data), 'rsa-pkcs1-sha256');
      const token = `${input}.${toBase64url(await sign(input))}`;
      // What AWS IoT checks before invoking the Lambda: the token, signed as a whole.
      const signature = (await sign(token)).toString('base64');
      return {
        authorizerName: want.name,
        tokenKeyName: want.tokenKeyName,
        token,
        signature,
        expiresAt: new Date(exp * 1000).toISOString(),
        mqttUsername: mqttUsername({
          deviceId,
          authorizerName: want.name,
          tokenKeyName: want.tokenKeyName,
          token,
          signature,
        }),
      };
    },
  };
}
export type AuthorizerTokens = ReturnType<typeof createAuthorizerTokens>;
