import { useSession } from './session-context';

/**
 * Whether the signed-in user is an administrator: screens hide actions only administrators may
 * take. The server enforces the same rule, and screens still show its 403 when it refuses.
 */
export function useIsAdministrator(): boolean {
  return useSession().user?.role === 'administrator';
}
