import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError, TooManyRequestsError } from './errors.js';

/** Base of the `type` URIs of our problem documents (RFC 9457). */
export const PROBLEM_TYPE_BASE = 'https://trustlink.dev/problems/';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  requestId: string;
  errors?: { path: string; message: string }[];
  [extra: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export interface ProblemInput {
  type: string;
  status: number;
  detail: string;
  errors?: { path: string; message: string }[];
  [extra: string]: unknown;
}

/** The problem document of an error for the request at `url` (its path is the instance). */
export function problemBody(problem: ProblemInput, url: string, requestId: string): Problem {
  return {
    ...problem,
    title: TITLES[problem.status] ?? 'Error',
    type: PROBLEM_TYPE_BASE + problem.type,
    instance: url.split('?')[0] ?? url,
    requestId,
  };
}

/** What one of our typed errors tells the caller, as a problem. */
export function appErrorProblem(error: AppError): ProblemInput {
  return {
    type: error.type,
    status: error.status,
    detail: error.message,
    ...(error.details ?? {}),
  };
}

/** What an unexpected error tells the caller (its cause goes only to the log). */
export const INTERNAL_ERROR_PROBLEM: ProblemInput = {
  type: 'internal-error',
  status: 500,
  detail: 'The server failed to handle this request; the log has the cause under this request id.',
};

function send(reply: FastifyReply, request: FastifyRequest, problem: ProblemInput) {
  const body = problemBody(problem, request.url, String(request.id));
  return reply.status(problem.status).type('application/problem+json').send(body);
}

/**
 * Maps every error to RFC 9457 problem details: schema failures and our typed errors to 4xx
 * with their message; anything else to a bare 500 whose cause goes only to the log.
 */
export function registerProblemHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(error)) {
      // fastify-type-provider-zod puts the zod issue's path in instancePath ("/a/b").
      const errors = error.validation.map((v) => ({
        path: [error.validationContext, ...v.instancePath.split('/')].filter(Boolean).join('.'),
        message: v.message ?? 'invalid',
      }));
      return send(reply, request, {
        type: 'validation-failed',
        status: 400,
        detail: errors.map((e) => `${e.path}: ${e.message}`).join('; '),
        errors,
      });
    }
    if (error instanceof AppError) {
      if (error instanceof TooManyRequestsError) {
        void reply.header('retry-after', String(error.retryAfterSeconds));
      }
      if (error.internalCause) request.log.info({ cause: error.internalCause }, error.message);
      return send(reply, request, appErrorProblem(error));
    }
    // Fastify's own client errors (bad JSON, body too large, wrong content type) carry a 4xx.
    const status = error.statusCode;
    if (status === 413) {
      // One type for every listener and body kind, as devices are told (PROTOCOL.md).
      return send(reply, request, { type: 'payload-too-large', status, detail: error.message });
    }
    if (status && status >= 400 && status < 500) {
      return send(reply, request, {
        type: (error.code ?? 'bad-request')
          .toLowerCase()
          .replace(/^fst_err_/, '')
          .replace(/_/g, '-'),
        status,
        detail: error.message,
      });
    }
    request.log.error({ err: error }, 'unhandled error');
    return send(reply, request, INTERNAL_ERROR_PROBLEM);
  });

  app.setNotFoundHandler((request, reply) =>
    send(reply, request, {
      type: 'not-found',
      status: 404,
      detail: `No route ${request.method} ${request.url.split('?')[0]}`,
    }),
  );
}
