/**
 * RFC 9457 problem details as the server sends them (see packages/server/src/lib/problem-handler.ts),
 * and the parsing that turns any error response into one, so screens always have a message.
 */

/** One field's complaint, with the server's path (e.g. `body.username`). */
export interface FieldProblem {
  path: string;
  message: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  requestId?: string;
  errors?: FieldProblem[];
  [extra: string]: unknown;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function fieldProblems(v: unknown): FieldProblem[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out = v.filter(
    (e): e is FieldProblem =>
      isRecord(e) && typeof e.path === 'string' && typeof e.message === 'string',
  );
  return out.length ? out : undefined;
}

/**
 * Builds a Problem from an HTTP error response. A problem+json body is taken as the server
 * wrote it; anything else (a proxy's HTML page, an empty body) gets a plain explanation with
 * the status, so the user is never shown a blank error.
 */
export function parseProblem(status: number, contentType: string | null, body: string): Problem {
  const fallbackTitle = status === 0 ? 'Network error' : `HTTP ${status}`;
  if (contentType && /json/i.test(contentType)) {
    try {
      const parsed: unknown = JSON.parse(body);
      if (isRecord(parsed)) {
        const detail =
          typeof parsed.detail === 'string'
            ? parsed.detail
            : typeof parsed.message === 'string'
              ? parsed.message
              : `The server answered ${status} without an explanation.`;
        return {
          ...parsed,
          type: typeof parsed.type === 'string' ? parsed.type : 'about:blank',
          title: typeof parsed.title === 'string' ? parsed.title : fallbackTitle,
          status: typeof parsed.status === 'number' ? parsed.status : status,
          detail,
          ...(typeof parsed.requestId === 'string' ? { requestId: parsed.requestId } : {}),
          errors: fieldProblems(parsed.errors),
        };
      }
    } catch {
      // Not JSON after all: fall through to the generic message.
    }
  }
  return {
    type: 'about:blank',
    title: fallbackTitle,
    status,
    detail:
      status === 0
        ? 'The server could not be reached. Check the connection and try again.'
        : `The server answered ${status} without an explanation.`,
  };
}

/** The last segment of a problem's `type` URI, e.g. `validation-failed`. */
export function problemCode(problem: Pick<Problem, 'type'>): string {
  return problem.type.slice(problem.type.lastIndexOf('/') + 1);
}

/**
 * Maps the server's per-field errors onto form field names: `body.username` -> `username`,
 * `body.user.email` -> `user.email`. Errors whose path names no known field are returned
 * apart, to be shown above the form.
 */
export function fieldErrors(
  problem: Pick<Problem, 'errors'>,
  fields: readonly string[],
): { byField: Record<string, string>; other: string[] } {
  const byField: Record<string, string> = {};
  const other: string[] = [];
  for (const e of problem.errors ?? []) {
    const name = e.path.replace(/^(body|querystring|params|headers)\.?/, '');
    if (fields.includes(name)) byField[name] ??= e.message;
    else other.push(name ? `${name}: ${e.message}` : e.message);
  }
  return { byField, other };
}
