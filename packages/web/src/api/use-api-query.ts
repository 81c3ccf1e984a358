import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, type RequestOptions } from './api-client';
import { useApi } from './api-context';

export interface QueryState<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  /** Fetches again; the previous data stays on screen until the new answer arrives. */
  reload: () => void;
}

/**
 * Loads `GET path` (relative to /api/v1) and reloads when the path or query change. A null
 * path loads nothing (for screens waiting on another answer). Answers to superseded requests
 * are dropped, so a slow reply cannot overwrite a newer one.
 */
export function useApiQuery<T>(
  path: string | null,
  query?: RequestOptions['query'],
): QueryState<T> {
  const api = useApi();
  const [state, setState] = useState<Omit<QueryState<T>, 'reload'>>({
    data: undefined,
    error: undefined,
    loading: path !== null,
  });
  const [tick, setTick] = useState(0);
  const queryKey = JSON.stringify(query ?? {});
  const latest = useRef(0);

  useEffect(() => {
    if (path === null) return;
    const id = ++latest.current;
    const ctrl = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    api
      .get<T>(path, { query: JSON.parse(queryKey) as RequestOptions['query'], signal: ctrl.signal })
      .then((data) => {
        if (id === latest.current) setState({ data, error: undefined, loading: false });
      })
      .catch((err: unknown) => {
        if (id !== latest.current || ctrl.signal.aborted) return;
        const error = err instanceof ApiError ? err : undefined;
        setState((s) => ({ ...s, error, loading: false }));
        if (!error) throw err;
      });
    return () => ctrl.abort();
  }, [api, path, queryKey, tick]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}
