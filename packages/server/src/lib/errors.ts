/**
 * Typed errors that carry a public message and a stable problem type. The internal cause (for
 * logs and the audit trail) stays apart from what the caller is told.
 */
export abstract class AppError extends Error {
  abstract readonly status: number;
  abstract readonly type: string;
  constructor(
    message: string,
    readonly details?: Record<string, unknown>,
    readonly internalCause?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadRequestError extends AppError {
  readonly status = 400;
  readonly type: string;
  constructor(message: string, details?: Record<string, unknown>, type = 'bad-request') {
    super(message, details);
    this.type = type;
  }
}

export class UnauthorizedError extends AppError {
  readonly status = 401;
  readonly type: string;
  constructor(message = 'Authentication required', internalCause?: unknown, type = 'unauthorized') {
    super(message, undefined, internalCause);
    this.type = type;
  }
}

export class ForbiddenError extends AppError {
  readonly status = 403;
  readonly type: string;
  constructor(message = 'Forbidden', type = 'forbidden', internalCause?: unknown) {
    super(message, undefined, internalCause);
    this.type = type;
  }
}

export class NotFoundError extends AppError {
  readonly status = 404;
  readonly type = 'not-found';
}

export class ConflictError extends AppError {
  readonly status = 409;
  readonly type: string;
  constructor(message: string, type = 'conflict', details?: Record<string, unknown>) {
    super(message, details);
    this.type = type;
  }
}

export class PayloadTooLargeError extends AppError {
  readonly status = 413;
  readonly type = 'payload-too-large';
}

export class TooManyRequestsError extends AppError {
  readonly status = 429;
  readonly type = 'too-many-requests';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

export class ServiceUnavailableError extends AppError {
  readonly status = 503;
  readonly type = 'service-unavailable';
}
