import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { auditContextOf, principalOf } from '../auth/principal.js';
import type { ProvisioningRuns } from './provisioning-run-service.js';
import type { ProvisioningService } from './provisioning-service.js';
import {
  failureInputSchema,
  flashPlanSchema,
  identityInputSchema,
  identityResultSchema,
  runPageQuerySchema,
  runPageSchema,
  runSchema,
  runStartSchema,
  taskInputSchema,
  taskSchema,
} from './provisioning-types.js';

const idParams = z.object({ id: z.string().min(1).max(64) });
const runParams = z.object({ id: z.string().min(1).max(64), runId: z.string().min(1).max(64) });
const PREFIX = '/api/v1/provisioning-tasks';

/**
 * /api/v1/provisioning-tasks: administrators define tasks; every signed-in user (contributors
 * too) lists them and runs them, as they operate batches.
 */
export function registerProvisioningRoutes(
  app: FastifyInstance,
  deps: { tasks: ProvisioningService; runs: ProvisioningRuns },
): void {
  const { tasks, runs } = deps;
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['provisioning'];
  r.get(
    PREFIX,
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'listProvisioningTasks',
        summary: 'List provisioning tasks',
        response: { 200: z.object({ items: z.array(taskSchema) }) },
      },
    },
    async (req) => ({ items: await tasks.list(principalOf(req).instanceId) }),
  );
  r.get(
    `${PREFIX}/:id`,
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'getProvisioningTask',
        summary: 'Get a provisioning task',
        params: idParams,
        response: { 200: taskSchema },
      },
    },
    async (req) => tasks.get(principalOf(req).instanceId, req.params.id),
  );
  r.post(
    PREFIX,
    {
      config: { access: 'administrator' },
      schema: {
        tags,
        operationId: 'createProvisioningTask',
        summary: 'Create a provisioning task',
        description:
          'Bootloader and IEF are ESP32 images (format esp32-sbv2), the partition table a raw image, all from the firmware library. A release bootloader needs the batch to have a signing key of a type the chip verifies.',
        body: taskInputSchema,
        response: { 201: taskSchema },
      },
    },
    async (req, reply) =>
      reply
        .status(201)
        .send(await tasks.create(principalOf(req).instanceId, req.body, auditContextOf(req))),
  );
  r.put(
    `${PREFIX}/:id`,
    {
      config: { access: 'administrator' },
      schema: {
        tags,
        operationId: 'replaceProvisioningTask',
        summary: 'Change a provisioning task',
        params: idParams,
        body: taskInputSchema,
        response: { 200: taskSchema },
      },
    },
    async (req) =>
      tasks.update(principalOf(req).instanceId, req.params.id, req.body, auditContextOf(req)),
  );
  r.delete(
    `${PREFIX}/:id`,
    {
      config: { access: 'administrator' },
      schema: {
        tags,
        operationId: 'deleteProvisioningTask',
        summary: 'Delete a provisioning task and its run history (provisioned devices stay)',
        params: idParams,
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await tasks.remove(principalOf(req).instanceId, req.params.id, auditContextOf(req));
      return reply.status(204).send(null);
    },
  );
  r.get(
    `${PREFIX}/:id/runs`,
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'listProvisioningRuns',
        summary: "A task's runs, newest first, a page at a time",
        description:
          'Each run: when and by whom it started, its status (started, finished, failed, abandoned), the device ID it registered or why it failed. `total` counts every run of the task.',
        params: idParams,
        querystring: runPageQuerySchema,
        response: { 200: runPageSchema },
      },
    },
    async (req) => {
      const instanceId = principalOf(req).instanceId;
      await tasks.get(instanceId, req.params.id);
      return runs.list(instanceId, req.params.id, req.query);
    },
  );
  r.post(
    `${PREFIX}/:id/runs`,
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'startProvisioningRun',
        summary: 'Start a run: the flash plan (signed images, provisioning config) for one device',
        description:
          'The Wi-Fi password is written into the config blob of this answer and kept nowhere. The answer is for the device being flashed now; do not store it.',
        params: idParams,
        body: runStartSchema,
        response: { 201: flashPlanSchema },
      },
    },
    async (req, reply) => {
      // The answer holds the Wi-Fi password (in the config blob): no cache may keep it.
      void reply.header('cache-control', 'no-store');
      return reply
        .status(201)
        .send(
          await runs.start(
            principalOf(req).instanceId,
            req.params.id,
            req.body.wifi,
            auditContextOf(req),
          ),
        );
    },
  );
  r.post(
    `${PREFIX}/:id/runs/:runId/identity`,
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'finishProvisioningRun',
        summary: "Finish a run with the device's identity line; its ID joins the task's batch",
        description:
          'The server derives the device ID from the key (SHA-256 of the canonical DER SPKI). A bad line or key: 400 identity-refused; an ID in another batch: 409 device-in-other-batch. Either ends the run as failed. A run already ended: 409 run-ended; one the server ended as abandoned (no result within the expiry): 409 run-abandoned.',
        params: runParams,
        body: identityInputSchema,
        response: { 200: identityResultSchema },
      },
    },
    async (req) =>
      runs.identity(
        principalOf(req).instanceId,
        req.params.id,
        req.params.runId,
        req.body.line,
        auditContextOf(req),
      ),
  );
  r.post(
    `${PREFIX}/:id/runs/:runId/failure`,
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'failProvisioningRun',
        summary: 'End a run the console could not complete, with the reason',
        params: runParams,
        body: failureInputSchema,
        response: { 200: runSchema },
      },
    },
    async (req) =>
      runs.fail(
        principalOf(req).instanceId,
        req.params.id,
        req.params.runId,
        req.body.reason,
        auditContextOf(req),
      ),
  );
}
