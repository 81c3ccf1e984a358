import { notifications } from '@mantine/notifications';
import { ApiError } from '../api/api-client';

/** Shows a failed action's server message as a notification (for actions outside forms). */
export function notifyError(err: unknown, title = 'The action failed'): void {
  const message =
    err instanceof ApiError
      ? err.problem.detail
      : err instanceof Error
        ? err.message
        : 'Something went wrong.';
  notifications.show({ color: 'red', title, message, autoClose: 8000 });
}

/** Confirms a finished action. */
export function notifySuccess(message: string, title = 'Done'): void {
  notifications.show({ color: 'green', title, message });
}
