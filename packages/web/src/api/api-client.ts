import { parseProblem, type Problem } from './problem-fns';

/** Where the management API lives; the console talks to nothing else (and /readyz). */
export const API_BASE = '/api/v1';

/** An error answer from the API, carrying the server's problem details. */
export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail);
    this.name = 'ApiError';
  }
  get status(): number {
    return this.problem.status;
  }
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined>;
  signal?: AbortSignal;
  /** Statuses besides 2xx whose body is data, not an error (e.g. /readyz answers 503). */
  acceptStatuses?: number[];
  /**
   * A 401 here is an answer, not an expired session (sign-in steps): do not send the user to
   * the sign-in page.
   */
  authStep?: boolean;
}

export interface ApiResponse<T> {
  status: number;
  data: T;
}

export interface ApiClientOptions {
  fetch?: typeof fetch;
  /** Called when a request gets 401 outside the sign-in steps: the session has ended. */
  onSessionEnded?: (problem: Problem) => void;
  /** Headers for state-changing requests (the CSRF token of the session). */
  csrfHeaders?: () => Record<string, string>;
  /** Makes the request object of uploads (fetch reports no upload progress; XHR does). */
  xhr?: () => XMLHttpRequest;
}

/** Upload progress: bytes sent so far of the total. */
export type UploadProgress = (sent: number, total: number) => void;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Builds a same-origin URL: paths under the API base unless they are absolute probe paths. */
export function apiUrl(path: string, query?: RequestOptions['query']): string {
  const full = path.startsWith('/api/') || path === '/readyz' ? path : `${API_BASE}${path}`;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined && v !== '') params.set(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${full}?${qs}` : full;
}

/**
 * The console's only way to the server. JSON in and out, cookies of the same origin, the CSRF
 * header on writes, and every failure turned into an ApiError with the server's problem.
 */
export function createApiClient(opts: ApiClientOptions = {}) {
  const doFetch = opts.fetch ?? ((input, init) => fetch(input, init));

  async function request<T>(
    method: string,
    path: string,
    ro: RequestOptions = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (ro.body !== undefined) headers['content-type'] = 'application/json';
    if (!SAFE_METHODS.has(method)) Object.assign(headers, opts.csrfHeaders?.() ?? {});
    let res: Response;
    try {
      res = await doFetch(apiUrl(path, ro.query), {
        method,
        headers,
        credentials: 'same-origin',
        body: ro.body === undefined ? undefined : JSON.stringify(ro.body),
        signal: ro.signal,
      });
    } catch (err) {
      if (err instanceof DOMException && err.name === 'AbortError') throw err;
      throw new ApiError(parseProblem(0, null, ''));
    }
    return answer<T>(res.status, res.headers.get('content-type'), await res.text(), ro);
  }

  /** Data for a success (or an accepted status); otherwise the server's problem, thrown. */
  function answer<T>(
    status: number,
    contentType: string | null,
    text: string,
    ro: RequestOptions,
  ): ApiResponse<T> {
    if ((status >= 200 && status < 300) || ro.acceptStatuses?.includes(status)) {
      const data = (text && /json/.test(contentType ?? '') ? JSON.parse(text) : text) as T;
      return { status, data };
    }
    const problem = parseProblem(status, contentType, text);
    if (status === 401 && !ro.authStep) opts.onSessionEnded?.(problem);
    throw new ApiError(problem);
  }

  /**
   * POSTs a body (a file as it is, JSON) and reports how much of it has been sent: for uploads
   * large enough that the user should see them move. Same headers, errors and 401 handling as
   * every other call.
   */
  function upload<T>(
    path: string,
    body: Blob | string,
    ro: {
      onProgress?: UploadProgress;
      signal?: AbortSignal;
      /** The body's type; JSON unless told (a firmware image goes as octet-stream). */
      contentType?: string;
    } = {},
  ): Promise<T> {
    const xhr = opts.xhr?.() ?? new XMLHttpRequest();
    return new Promise<T>((resolve, reject) => {
      xhr.open('POST', apiUrl(path));
      const headers: Record<string, string> = {
        accept: 'application/json',
        'content-type': ro.contentType ?? 'application/json',
        ...(opts.csrfHeaders?.() ?? {}),
      };
      for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable) ro.onProgress?.(e.loaded, e.total);
      };
      xhr.onload = () => {
        try {
          resolve(
            answer<T>(xhr.status, xhr.getResponseHeader('content-type'), xhr.responseText, {}).data,
          );
        } catch (err) {
          reject(err);
        }
      };
      xhr.onerror = () => reject(new ApiError(parseProblem(0, null, '')));
      xhr.onabort = () => reject(new DOMException('The upload was cancelled', 'AbortError'));
      ro.signal?.addEventListener('abort', () => xhr.abort(), { once: true });
      xhr.send(body);
    });
  }

  /**
   * GETs a binary answer (a zip) as a Blob. A refusal is read as the server's problem, so it
   * shows as a message rather than as a saved error page.
   */
  async function blob(path: string, ro: RequestOptions = {}): Promise<Blob> {
    let res: Response;
    try {
      res = await doFetch(apiUrl(path, ro.query), {
        method: 'GET',
        headers: { accept: '*/*' },
        credentials: 'same-origin',
        signal: ro.signal,
      });
    } catch (err) {
      if (err instanceof DOMException && err.name === 'AbortError') throw err;
      throw new ApiError(parseProblem(0, null, ''));
    }
    if (res.status >= 200 && res.status < 300) return res.blob();
    return answer<never>(res.status, res.headers.get('content-type'), await res.text(), ro).data;
  }

  const data =
    (method: string) =>
    async <T>(path: string, ro?: RequestOptions): Promise<T> =>
      (await request<T>(method, path, ro)).data;

  return {
    request,
    get: data('GET'),
    post: <T>(path: string, body?: unknown, ro?: RequestOptions) =>
      data('POST')<T>(path, { ...ro, body }),
    put: <T>(path: string, body?: unknown, ro?: RequestOptions) =>
      data('PUT')<T>(path, { ...ro, body }),
    patch: <T>(path: string, body?: unknown, ro?: RequestOptions) =>
      data('PATCH')<T>(path, { ...ro, body }),
    delete: <T>(path: string, ro?: RequestOptions) => data('DELETE')<T>(path, ro),
    upload,
    blob,
  };
}
export type ApiClient = ReturnType<typeof createApiClient>;
