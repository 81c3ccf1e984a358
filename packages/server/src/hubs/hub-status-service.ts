import net from 'node:net';
import { z } from 'zod';
import type { OutboundGuard } from '../lib/outbound-guard.js';
import type { HubRepo, StoredHub } from './hub-repo.js';
import { outboundTarget } from './hub-service.js';
import { HUB_TYPES } from './hub-types.js';

export const hubStatusSchema = z.object({
  /** How many of the configured hubs answered their check ("N of M"). */
  reachable: z.number().int(),
  total: z.number().int(),
  hubs: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      type: z.enum(HUB_TYPES),
      ok: z.boolean(),
      detail: z.string(),
      checkedAt: z.string(),
    }),
  ),
});
export type HubStatus = z.infer<typeof hubStatusSchema>;

type Check = (instanceId: string, hub: StoredHub) => Promise<{ ok: boolean; detail: string }>;

const TCP_TIMEOUT_MS = 3000;

/** A TCP connection to a user-set endpoint, through the outbound guard. */
export function tcpCheck(guard: OutboundGuard): Check {
  return async (_instanceId, hub) => {
    const target = outboundTarget(hub.type, hub.settings);
    if (!target) return { ok: false, detail: 'no endpoint to check' };
    try {
      const { address } = await guard.resolve(target.host, target.port);
      await new Promise<void>((resolve, reject) => {
        const s = net.connect({ host: address, port: target.port, timeout: TCP_TIMEOUT_MS });
        s.once('connect', () => {
          s.destroy();
          resolve();
        });
        s.once('timeout', () => {
          s.destroy();
          reject(new Error(`no answer within ${TCP_TIMEOUT_MS} ms`));
        });
        s.once('error', reject);
      });
      return { ok: true, detail: `${target.host}:${target.port} accepts connections` };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
  };
}

/**
 * Hub status for the dashboard: one cheap check per hub (the embedded broker's listener is up;
 * a TLS or TCP connection to an outside endpoint), run side by side and kept for a short time
 * so a dashboard that refreshes does not hammer outside services.
 */
export function createHubStatusService(deps: {
  repo: HubRepo;
  checks: Record<StoredHub['type'], Check>;
  ttlMs?: number;
  now?: () => Date;
}) {
  const ttlMs = deps.ttlMs ?? 15_000;
  const now = deps.now ?? (() => new Date());
  const cache = new Map<string, { until: number; value: Promise<HubStatus> }>();

  async function compute(instanceId: string): Promise<HubStatus> {
    const hubs = await deps.repo.list(instanceId);
    const results = await Promise.all(
      hubs.map(async (h) => {
        const r = await deps.checks[h.type](instanceId, h).catch((err: Error) => ({
          ok: false,
          detail: err.message,
        }));
        return { id: h.id, name: h.name, type: h.type, ...r, checkedAt: now().toISOString() };
      }),
    );
    return { reachable: results.filter((r) => r.ok).length, total: results.length, hubs: results };
  }

  return {
    status(instanceId: string): Promise<HubStatus> {
      const hit = cache.get(instanceId);
      const t = Date.now();
      if (hit && hit.until > t) return hit.value;
      const value = compute(instanceId);
      cache.set(instanceId, { until: t + ttlMs, value });
      value.catch(() => cache.delete(instanceId));
      return value;
    },
    /** Forgets the cached answer (a hub was added, changed or removed). */
    invalidate(instanceId: string): void {
      cache.delete(instanceId);
    },
  };
}
export type HubStatusService = ReturnType<typeof createHubStatusService>;
