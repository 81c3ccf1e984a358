import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { SESSION_MAX_SECONDS } from '@trustlink/protocol';
import type { Executor } from '../db/database.js';
import type { DeviceSessionRecord, DeviceSessionRepo } from './device-session-repo.js';

/** Prefix of device bearer tokens, so a leaked one is recognisable in logs and scanners. */
const TOKEN_PREFIX = 'tld_';

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export interface DeviceSessionServiceDeps {
  repo: DeviceSessionRepo;
  now?: () => Date;
}

/**
 * Bearer handles for devices whose key store cannot drive TLS client authentication. A token is
 * 256 random bits, handed out once; the server keeps its SHA-256 and an expiry of at most 15
 * minutes (never past the device certificate's). Revoking the device deletes its sessions, so
 * a handle dies with the device at once.
 */
export function createDeviceSessionService(deps: DeviceSessionServiceDeps) {
  const { repo } = deps;
  const now = deps.now ?? (() => new Date());
  return {
    async open(
      instanceId: string,
      deviceId: string,
      certNotAfter: string,
    ): Promise<{ token: string; expiresAt: string }> {
      const t = now();
      const until = Math.min(t.getTime() + SESSION_MAX_SECONDS * 1000, Date.parse(certNotAfter));
      const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
      const expiresAt = new Date(until).toISOString();
      await repo.insert(instanceId, {
        id: randomUUID(),
        deviceId,
        tokenHash: hashToken(token),
        expiresAt,
        createdAt: t.toISOString(),
      });
      return { token, expiresAt };
    },
    /** The live session of a token, or undefined (unknown, expired or ended by revocation). */
    resolve(instanceId: string, token: string): Promise<DeviceSessionRecord | undefined> {
      if (!token.startsWith(TOKEN_PREFIX)) return Promise.resolve(undefined);
      return repo.findLive(instanceId, hashToken(token), now().toISOString());
    },
    /** The live session of a token with its device as it is now, in one read. */
    resolveWithDevice(instanceId: string, token: string) {
      if (!token.startsWith(TOKEN_PREFIX)) return Promise.resolve(undefined);
      return repo.findLiveWithDevice(instanceId, hashToken(token), now().toISOString());
    },
    /** resolveWithDevice, with the repo's `alongside` value (the check-in's waiting update). */
    resolveWithDeviceAlongside(instanceId: string, token: string) {
      if (!token.startsWith(TOKEN_PREFIX)) return Promise.resolve(undefined);
      return repo.findLiveWithDeviceAlongside(instanceId, hashToken(token), now().toISOString());
    },
    endAll: (instanceId: string, deviceId: string, tx?: Executor) =>
      repo.deleteForDevice(instanceId, deviceId, tx),
    purgeExpired: () => repo.purgeExpired(now().toISOString()),
  };
}
export type DeviceSessionService = ReturnType<typeof createDeviceSessionService>;
