import type { EnrolmentMethod } from './enrolment-methods.js';

/**
 * Pre-registered device ID: the identity key's ID was put into a batch beforehand (production
 * line, upload). The proof of the key is the whole ceremony; a token adds nothing here and
 * never stands in for registration.
 */
export function preRegisteredMethod(): EnrolmentMethod {
  return {
    name: 'pre-registered',
    applies: (e) => e.factory === undefined,
    async decide(e) {
      if (e.device) {
        return {
          ok: true,
          method: 'pre-registered',
          batchId: e.device.batchId,
          register: false,
          details: {},
        };
      }
      if (e.token !== undefined) {
        return {
          ok: false,
          reason:
            'device ID is not registered, and a token alone never enrols a device (it is accepted only with a factory certificate of an auth cert that requires one)',
        };
      }
      return { ok: false, reason: 'device ID is not registered in any batch' };
    },
  };
}
