/**
 * Turns the server's readiness answer (GET /readyz) into the dashboard's global status tiles.
 * Colours: green = working, orange = answering but degraded, red = failing, gray = unknown
 * (the backend did not answer, so nothing behind it can be judged). The text always says the
 * same as the colour, so colour is never the only signal.
 */

export interface ReadinessCheck {
  ok: boolean;
  detail: string;
}

/** The body of /readyz, on 200 and on 503 alike. */
export interface Readiness {
  status: 'ready' | 'not-ready';
  checks: { database: ReadinessCheck; keystore: ReadinessCheck };
}

export type ReadinessResult =
  | { kind: 'answered'; status: number; body: Readiness; elapsedMs: number }
  | { kind: 'failed'; message: string };

export type TileColour = 'green' | 'orange' | 'red' | 'gray';

export interface StatusTile {
  key: string;
  label: string;
  colour: TileColour;
  /** One or two words that say what the colour says. */
  summary: string;
  /** Shown on hover and focus. */
  detail: string;
}

/** Above this a backend that answers is shown orange: it works, but slowly. */
export const SLOW_MS = 2000;

function checkTile(key: string, label: string, check: ReadinessCheck): StatusTile {
  return check.ok
    ? { key, label, colour: 'green', summary: 'OK', detail: check.detail }
    : { key, label, colour: 'red', summary: 'Failing', detail: check.detail };
}

/** The key store, backend and database tiles for one readiness answer (or its failure). */
export function readinessTiles(result: ReadinessResult): StatusTile[] {
  if (result.kind === 'failed') {
    const unknown = (key: string, label: string): StatusTile => ({
      key,
      label,
      colour: 'gray',
      summary: 'Unknown',
      detail: 'The backend did not answer, so this cannot be checked.',
    });
    return [
      unknown('keystore', 'Key store'),
      {
        key: 'backend',
        label: 'Backend',
        colour: 'red',
        summary: 'Unreachable',
        detail: result.message,
      },
      unknown('database', 'Database'),
    ];
  }
  const { body, elapsedMs } = result;
  const backend: StatusTile =
    body.status !== 'ready'
      ? {
          key: 'backend',
          label: 'Backend',
          colour: 'orange',
          summary: 'Not ready',
          detail: 'The backend answers, but a service it needs is failing (see the other tiles).',
        }
      : elapsedMs > SLOW_MS
        ? {
            key: 'backend',
            label: 'Backend',
            colour: 'orange',
            summary: 'Slow',
            detail: `The backend answered its readiness check in ${Math.round(elapsedMs)} ms.`,
          }
        : {
            key: 'backend',
            label: 'Backend',
            colour: 'green',
            summary: 'OK',
            detail: `The backend answered its readiness check in ${Math.round(elapsedMs)} ms.`,
          };
  return [
    checkTile('keystore', 'Key store', body.checks.keystore),
    backend,
    checkTile('database', 'Database', body.checks.database),
  ];
}

/** Whether a parsed body has the shape of a readiness answer (guards against a proxy's page). */
export function isReadiness(v: unknown): v is Readiness {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  const checks = r.checks as Record<string, unknown> | undefined;
  const isCheck = (c: unknown) =>
    typeof c === 'object' &&
    c !== null &&
    typeof (c as ReadinessCheck).ok === 'boolean' &&
    typeof (c as ReadinessCheck).detail === 'string';
  return (
    (r.status === 'ready' || r.status === 'not-ready') &&
    !!checks &&
    isCheck(checks.database) &&
    isCheck(checks.keystore)
  );
}
