import { useCallback, useEffect, useState } from 'react';
import { ApiError } from '../api/api-client';
import { useApi } from '../api/api-context';
import { isReadiness, type ReadinessResult } from './status-fns';

/**
 * Asks GET /readyz (the documented probe; 200 when ready, 503 with the same body when not)
 * and times the round trip. A failure to answer is a result too: the backend tile shows it.
 */
export function useReadiness() {
  const api = useApi();
  const [result, setResult] = useState<ReadinessResult>();
  const [checkedAt, setCheckedAt] = useState<Date>();
  const [refreshing, setRefreshing] = useState(false);

  const refresh = useCallback(async () => {
    setRefreshing(true);
    const started = performance.now();
    try {
      const res = await api.request<unknown>('GET', '/readyz', { acceptStatuses: [503] });
      const elapsedMs = performance.now() - started;
      setResult(
        isReadiness(res.data)
          ? { kind: 'answered', status: res.status, body: res.data, elapsedMs }
          : { kind: 'failed', message: `The readiness check answered ${res.status} unexpectedly.` },
      );
    } catch (err) {
      setResult({
        kind: 'failed',
        message: err instanceof ApiError ? err.problem.detail : String(err),
      });
    } finally {
      setCheckedAt(new Date());
      setRefreshing(false);
    }
  }, [api]);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  return { result, checkedAt, refreshing, refresh };
}
