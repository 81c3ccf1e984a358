import type { AuthCert } from '../auth-certs/auth-cert-repo.js';
import type { TokenCheck } from '../enrolment-tokens/enrolment-token-service.js';
import { chainToAnchor } from './cert-chain-fns.js';
import type { EnrolmentMethod } from './enrolment-methods.js';

export interface FactoryCertificateMethodDeps {
  authCerts(instanceId: string): Promise<AuthCert[]>;
  checkToken(instanceId: string, value: string, batchId: string): Promise<TokenCheck>;
  batchName(instanceId: string, batchId: string): Promise<string | undefined>;
  now?: () => Date;
}

/**
 * Factory certificate: the identity key came with a certificate from the device's maker (a
 * secure element's), which must chain to an auth cert of the instance. Vendor CAs sign for
 * every customer of the vendor, so the auth cert's rule adds what only this customer has:
 * `must-pre-register` (the ID is registered in the auth cert's batch) or `requires-token`
 * (a valid token of that batch; the ID is then registered by enrolling).
 */
export function factoryCertificateMethod(deps: FactoryCertificateMethodDeps): EnrolmentMethod {
  const now = deps.now ?? (() => new Date());
  const nameOf = async (instanceId: string, batchId: string) =>
    `"${(await deps.batchName(instanceId, batchId)) ?? batchId}"`;
  return {
    name: 'factory-certificate',
    applies: (e) => e.factory !== undefined,
    async decide(e) {
      const anchors = await deps.authCerts(e.instanceId);
      const chain = chainToAnchor(
        e.factory!.certificate,
        e.factory!.intermediates,
        anchors.map((a) => ({ id: a.id, der: a.der })),
        now(),
      );
      if (!chain.ok) return { ok: false, reason: `factory certificate refused: ${chain.reason}` };
      const ac = anchors.find((a) => a.id === chain.anchorId)!;
      const details = { authCertId: ac.id, authCert: ac.name, rule: ac.rule };
      const device = e.device;
      if (device && device.batchId !== ac.batchId) {
        return {
          ok: false,
          reason: `device ID is registered in batch ${await nameOf(e.instanceId, device.batchId)}, not in auth cert "${ac.name}"'s batch ${await nameOf(e.instanceId, ac.batchId)}`,
          details,
        };
      }
      if (ac.rule === 'must-pre-register') {
        if (!device) {
          return {
            ok: false,
            reason: `device ID is in no batch: auth cert "${ac.name}" requires devices to be pre-registered`,
            details,
          };
        }
        return {
          ok: true,
          method: 'factory-certificate',
          batchId: ac.batchId,
          register: false,
          details,
        };
      }
      if (e.token === undefined) {
        return {
          ok: false,
          reason: `auth cert "${ac.name}" requires a token, and none was sent`,
          details,
        };
      }
      const token = await deps.checkToken(e.instanceId, e.token, ac.batchId);
      if (!token.ok) return { ok: false, reason: `token refused: ${token.reason}`, details };
      return {
        ok: true,
        method: 'factory-certificate+token',
        batchId: ac.batchId,
        register: !device,
        details: { ...details, tokenId: token.token.id, token: token.token.name },
      };
    },
  };
}
