import net from 'node:net';
import pino, { type Logger } from 'pino';
import { createApps, type AppOptions, type Apps } from './app.js';
import { ConfigError, effectiveConsoleUrl, type Config } from './config.js';
import { takeStartupLock } from './db/startup-lock.js';
import { endpointNames } from './pki/instance-pki.js';
import { openRuntime, type Runtime } from './runtime.js';

/** Fails with a ConfigError naming the option when a port cannot be bound. */
async function probePort(host: string, port: number, option: string): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => {
      const why =
        err.code === 'EADDRINUSE'
          ? 'is already in use'
          : err.code === 'EACCES'
            ? 'needs privileges this process lacks'
            : err.message;
      reject(new ConfigError(`${option}: ${host}:${port} ${why}`));
    });
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve()));
  });
}

export interface RunningServer {
  runtime: Runtime;
  apps: Apps;
  /** This server's management listener, as bound. */
  managementUrl: string;
  /** Where users open the console (TRUSTLINK_CONSOLE_URL, or the management listener). */
  consoleUrl: string;
  deviceUrl: string;
  /** Base URL of the plain-HTTP PKI listener as written into certificates. */
  pkiUrl: string;
  /** The port the embedded MQTT broker listens on (TLS, client certificates). */
  mqttPort: number;
  rootPem: string;
  /** The setup link this start issued (the instance has no administrator and had no link). */
  setupUrl?: string;
  /**
   * A setup link issued before (by another replica or an earlier start) that still works; its
   * token is not known here, so it is not printed again.
   */
  earlierSetupLink?: { createdAt: string; expiresAt: string };
  stop(): Promise<void>;
}

export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({
    level: config.logLevel,
    base: { service: 'trustlink' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["trustlink-proof"]'],
      censor: '[redacted]',
    },
  });
}

/**
 * Starts the server: checks the ports, opens or creates the instance, issues what TLS needs,
 * then listens. Nothing is written before the ports are known to be free.
 */
export async function startServer(
  config: Config,
  log: Logger = createLogger(config),
  opts: Parameters<typeof openRuntime>[2] & AppOptions = {},
): Promise<RunningServer> {
  await probePort(config.bindAddress, config.managementPort, 'TRUSTLINK_MANAGEMENT_PORT');
  await probePort(config.bindAddress, config.devicePort, 'TRUSTLINK_DEVICE_PORT');
  await probePort(config.bindAddress, config.pkiHttpPort, 'TRUSTLINK_PKI_HTTP_PORT');
  await probePort(config.bindAddress, config.mqttPort, 'TRUSTLINK_MQTT_PORT');
  const runtime = await openRuntime(config, log, opts);
  try {
    // Replicas starting together take turns, so one of them issues a missing or ageing TLS
    // certificate and the others use it.
    const unlock = await takeStartupLock(runtime.db);
    const tls = await runtime.pki
      .ensureTls(
        runtime.instance.id,
        endpointNames(config.publicHostname, config.tlsSubjectAltNames),
      )
      .finally(unlock);
    const apps = await createApps(runtime, tls, log, {
      authenticateDevice: opts.authenticateDevice,
    });
    await apps.management.listen({ host: config.bindAddress, port: config.managementPort });
    await apps.device.listen({ host: config.bindAddress, port: config.devicePort });
    // The MQTT port presents the same instance-issued TLS certificate as the device port.
    const mqttPort = await runtime.hubs.start({ certPem: tls.chainPem, keyPem: tls.keyPem });
    runtime.outboxWorker.start();
    await apps.pki.listen({ host: config.bindAddress, port: config.pkiHttpPort });
    const portOf = (app: Apps['management']) => {
      const addr = app.server.address();
      return typeof addr === 'object' && addr ? addr.port : 0;
    };
    const managementUrl = `https://${config.publicHostname}:${portOf(apps.management)}`;
    const consoleUrl = effectiveConsoleUrl(config, portOf(apps.management));
    const deviceUrl = `https://${config.publicHostname}:${portOf(apps.device)}`;
    runtime.pkiEndpoint.bind(portOf(apps.pki));
    runtime.databaseDirect.bindDevicePort(portOf(apps.device));
    runtime.provisioning.bindDevicePort(portOf(apps.device));
    const pkiUrl = runtime.pkiEndpoint.baseUrl();
    runtime.pkiServices.jobs.start();
    runtime.enrolment.start();
    runtime.provisioning.jobs.start();
    let setupUrl: string | undefined;
    let earlierSetupLink: RunningServer['earlierSetupLink'];
    if (!runtime.instance.claimedAt) {
      const link = await runtime.setup.issueAtStart(
        runtime.instance.id,
        config.setupLinkTtlMinutes,
      );
      // The token travels in the fragment, so it never reaches access logs or proxies.
      if (link.kind === 'issued') setupUrl = `${consoleUrl}/setup#token=${link.token}`;
      if (link.kind === 'valid') {
        earlierSetupLink = { createdAt: link.createdAt, expiresAt: link.expiresAt };
        log.info(
          { issuedAt: link.createdAt, expiresAt: link.expiresAt },
          'a setup link issued by another replica or an earlier start still works; not issuing a new one (trustlink setup link issues a new one and voids it)',
        );
      }
    }
    return {
      runtime,
      apps,
      managementUrl,
      consoleUrl,
      deviceUrl,
      pkiUrl,
      mqttPort,
      rootPem: tls.rootPem,
      setupUrl,
      earlierSetupLink,
      async stop() {
        await runtime.enrolment.stop();
        await runtime.pkiServices.jobs.stop();
        await apps.pki.close();
        await apps.device.close();
        await apps.management.close();
        await runtime.close();
      },
    };
  } catch (err) {
    await runtime.close().catch(() => undefined);
    throw err;
  }
}
