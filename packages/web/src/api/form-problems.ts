import { ApiError } from './api-client';
import { fieldErrors, problemCode } from './problem-fns';

/** What a form shows after the server refused it. */
export interface FormProblem {
  /** Errors for the form's fields, to pass to `form.setErrors`. */
  byField: Record<string, string>;
  /** The problem for the alert above the form, when not all of it fits beside the fields. */
  error: ApiError | undefined;
  /** Per-field complaints about fields the form does not have. */
  other: string[];
}

/**
 * Splits a refusal between the form's fields and its alert: per-field `errors` go beside their
 * fields; a problem whose type names one field (e.g. `weak-password` -> password) shows its
 * `detail` there; everything else shows in the alert with the server's own words.
 */
export function formProblem(
  err: unknown,
  fields: readonly string[],
  codeFields: Record<string, string> = {},
): FormProblem {
  if (!(err instanceof ApiError)) throw err;
  const { byField, other } = fieldErrors(err.problem, fields);
  const field = codeFields[problemCode(err.problem)];
  if (field && fields.includes(field) && Object.keys(byField).length === 0) {
    return { byField: { [field]: err.problem.detail }, error: undefined, other };
  }
  return { byField, error: Object.keys(byField).length && !other.length ? undefined : err, other };
}
