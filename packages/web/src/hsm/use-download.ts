import { useCallback } from 'react';
import { useApi } from '../api/api-context';
import { saveTextFile } from '../components/download';
import { notifyError } from '../components/notify';

/**
 * Downloads a PEM from the API and saves it under a file name. A refusal (403, 404) shows the
 * server's message instead of saving an error page as a .pem.
 */
export function useDownload() {
  const api = useApi();
  return useCallback(
    async (path: string, fileName: string, query?: Record<string, string>) => {
      try {
        const text = await api.get<string>(path, { query });
        saveTextFile(fileName, text);
      } catch (err) {
        notifyError(err, 'The download failed');
      }
    },
    [api],
  );
}
