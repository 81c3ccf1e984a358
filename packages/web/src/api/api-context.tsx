import { createContext, useContext } from 'react';
import type { ApiClient } from './api-client';

/** The API client of the running console (made by the session provider, which owns 401s). */
export const ApiContext = createContext<ApiClient | null>(null);

/** The console's API client; screens call the API only through it. */
export function useApi(): ApiClient {
  const api = useContext(ApiContext);
  if (!api) throw new Error('useApi outside <ApiContext.Provider>');
  return api;
}
