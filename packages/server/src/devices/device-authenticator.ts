import type { FastifyRequest } from 'fastify';

/** A device proven by the request (TLS client certificate or bearer session). */
export interface DeviceIdentity {
  instanceId: string;
  deviceId: string;
  batchId: string;
}

/**
 * Finds the device a device-API request comes from, or null when the request proves none (the
 * route then answers a bare 401). It may throw an AppError itself, e.g. 403 `device-revoked`.
 * The enrolment domain provides the real one; routes only ever see this function.
 */
export type DeviceAuthenticator = (request: FastifyRequest) => Promise<DeviceIdentity | null>;
