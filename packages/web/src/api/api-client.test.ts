import { describe, expect, it } from 'vitest';
import { ApiError, apiUrl, createApiClient } from './api-client';

type Call = { url: string; init: RequestInit };

function fakeFetch(status: number, body: string, type = 'application/json') {
  const calls: Call[] = [];
  const f = async (url: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ url: String(url), init: init ?? {} });
    return new Response(body, { status, headers: { 'content-type': type } });
  };
  return { calls, fetch: f as typeof fetch };
}

describe('apiUrl', () => {
  it('ok/relative paths go under /api/v1 with the query', () => {
    expect(apiUrl('/users', { page: 2, q: 'a b', empty: '', none: undefined })).toBe(
      '/api/v1/users?page=2&q=a+b',
    );
  });
  it('ok/absolute API and probe paths stay', () => {
    expect(apiUrl('/api/v1/x')).toBe('/api/v1/x');
    expect(apiUrl('/readyz')).toBe('/readyz');
  });
});

describe('createApiClient', () => {
  it('ok/JSON answer, CSRF header only on writes', async () => {
    const f = fakeFetch(200, '{"a":1}');
    const api = createApiClient({ fetch: f.fetch, csrfHeaders: () => ({ 'x-csrf-token': 't' }) });
    expect(await api.get('/a')).toEqual({ a: 1 });
    await api.post('/b', { x: 1 });
    const [get, post] = f.calls;
    expect((get!.init.headers as Record<string, string>)['x-csrf-token']).toBeUndefined();
    expect((post!.init.headers as Record<string, string>)['x-csrf-token']).toBe('t');
    expect(post!.init.body).toBe('{"x":1}');
    expect(post!.init.credentials).toBe('same-origin');
  });

  it('ok/accepted non-2xx status is data', async () => {
    const f = fakeFetch(503, '{"status":"not-ready"}');
    const res = await createApiClient({ fetch: f.fetch }).request('GET', '/readyz', {
      acceptStatuses: [503],
    });
    expect(res).toEqual({ status: 503, data: { status: 'not-ready' } });
  });

  it('fail/problem answer becomes an ApiError with the detail', async () => {
    const f = fakeFetch(
      403,
      '{"type":"https://trustlink.dev/problems/forbidden","title":"Forbidden","status":403,"detail":"administrators only"}',
      'application/problem+json',
    );
    const err = await createApiClient({ fetch: f.fetch })
      .get('/users')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(403);
    expect((err as ApiError).message).toBe('administrators only');
  });

  it('fail/401 ends the session, except in sign-in steps', async () => {
    const f = fakeFetch(401, '{"detail":"sign in"}');
    let ended = 0;
    const api = createApiClient({ fetch: f.fetch, onSessionEnded: () => ended++ });
    await expect(api.get('/users')).rejects.toThrow('sign in');
    expect(ended).toBe(1);
    await expect(api.post('/auth/sign-in', {}, { authStep: true })).rejects.toThrow();
    expect(ended).toBe(1);
  });

  it('fail/network failure is an ApiError with status 0', async () => {
    const api = createApiClient({
      fetch: (async () => {
        throw new TypeError('Failed to fetch');
      }) as typeof fetch,
    });
    const err = await api.get('/x').catch((e: unknown) => e);
    expect((err as ApiError).status).toBe(0);
  });
});

/** A stand-in for XMLHttpRequest that answers `status` with `body` after reporting progress. */
function fakeXhr(status: number, body: string, type = 'application/json') {
  const sent: { method?: string; url?: string; headers: Record<string, string>; body?: unknown } = {
    headers: {},
  };
  const xhr = {
    status: 0,
    responseText: '',
    upload: { onprogress: null as null | ((e: Partial<ProgressEvent>) => void) },
    onload: null as null | (() => void),
    onerror: null as null | (() => void),
    onabort: null as null | (() => void),
    open(method: string, url: string) {
      sent.method = method;
      sent.url = url;
    },
    setRequestHeader(k: string, v: string) {
      sent.headers[k] = v;
    },
    getResponseHeader: (k: string) => (k === 'content-type' ? type : null),
    abort() {
      this.onabort?.();
    },
    send(b: unknown) {
      sent.body = b;
      this.upload.onprogress?.({ lengthComputable: true, loaded: 5, total: 10 });
      this.upload.onprogress?.({ lengthComputable: true, loaded: 10, total: 10 });
      this.status = status;
      this.responseText = body;
      this.onload?.();
    },
  };
  return { sent, make: () => xhr as unknown as XMLHttpRequest };
}

describe('upload', () => {
  it('ok/sends the body with the CSRF header and reports progress', async () => {
    const x = fakeXhr(200, '{"added":2,"alreadyInBatch":0}');
    const api = createApiClient({ xhr: x.make, csrfHeaders: () => ({ 'x-csrf-token': 't' }) });
    const progress: number[] = [];
    const res = await api.upload('/batches/b/devices/upload', '{"devices":[]}', {
      onProgress: (s, t) => progress.push(s / t),
    });
    expect(res).toEqual({ added: 2, alreadyInBatch: 0 });
    expect(progress).toEqual([0.5, 1]);
    expect(x.sent).toMatchObject({
      method: 'POST',
      url: '/api/v1/batches/b/devices/upload',
      body: '{"devices":[]}',
      headers: { 'x-csrf-token': 't', 'content-type': 'application/json' },
    });
  });

  it('fail/a refusal is an ApiError with the server problem and its extras', async () => {
    const x = fakeXhr(
      400,
      '{"type":"https://trustlink.dev/problems/device-list-rejected","status":400,"detail":"1 of 2 entries cannot be added; nothing was added","problems":[{"entry":2,"value":"x","reason":"not hexadecimal"}],"problemCount":1}',
      'application/problem+json',
    );
    const err = await createApiClient({ xhr: x.make })
      .upload('/u', '{}')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).problem.problems).toEqual([
      { entry: 2, value: 'x', reason: 'not hexadecimal' },
    ]);
  });

  it('fail/401 ends the session', async () => {
    let ended = 0;
    const x = fakeXhr(401, '{"detail":"sign in"}');
    const api = createApiClient({ xhr: x.make, onSessionEnded: () => ended++ });
    await expect(api.upload('/u', '{}')).rejects.toThrow('sign in');
    expect(ended).toBe(1);
  });
});

describe('upload of a file', () => {
  it('ok/a binary body goes with the content type it is given', async () => {
    const x = fakeXhr(201, '{"id":"f1"}');
    const api = createApiClient({ xhr: x.make });
    await api.upload('/firmware?name=a', 'bytes', { contentType: 'application/octet-stream' });
    expect(x.sent.headers['content-type']).toBe('application/octet-stream');
    expect(x.sent.url).toBe('/api/v1/firmware?name=a');
  });
});

describe('blob', () => {
  it('ok/a binary answer comes back as a Blob', async () => {
    const f = fakeFetch(200, 'PK\u0003\u0004zip', 'application/zip');
    const b = await createApiClient({ fetch: f.fetch }).blob('/hubs/h/tools/t/credentials.zip');
    expect(await b.text()).toBe('PK\u0003\u0004zip');
    expect(f.calls[0]!.url).toBe('/api/v1/hubs/h/tools/t/credentials.zip');
  });

  it('fail/a refusal is the server problem, not a file', async () => {
    const f = fakeFetch(
      403,
      '{"status":403,"detail":"this needs the administrator role"}',
      'application/problem+json',
    );
    const err = await createApiClient({ fetch: f.fetch })
      .blob('/x')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).message).toBe('this needs the administrator role');
  });
});
