import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CONFIG_OPTIONS, loadConfig } from '../src/config.js';
import {
  envOf,
  KUBERNETES_DIR,
  last,
  readDockerfile,
  volumesOf,
} from '../src/test-helpers/test-dockerfile.js';

/*
 * deploy/kubernetes checked without a cluster (none runs here): every document against the
 * Kubernetes OpenAPI schemas shipped in kubernetes-models, then the rules a schema cannot
 * see: labels and selectors, ports against the configuration defaults, probes, references to
 * Secrets and ConfigMaps, the security context, and the options in the ConfigMap.
 */

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Doc {
  file: string;
  obj: Obj;
}

/** apiVersion/kind pairs the manifests may use, each with its schema-checked model. */
const MODELS: Record<string, new (data: Obj) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

function loadDocs(): Doc[] {
  const out: Doc[] = [];
  for (const file of readdirSync(KUBERNETES_DIR).sort()) {
    if (!/\.ya?ml$/.test(file)) continue;
    // The YAML 1.1 schema is the one Kubernetes reads manifests with (0440 is octal there).
    for (const doc of parseAllDocuments(readFileSync(path.join(KUBERNETES_DIR, file), 'utf8'), {
      version: '1.1',
    })) {
      if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0]!.message}`);
      const obj = doc.toJS() as Obj | null;
      if (obj) out.push({ file, obj });
    }
  }
  return out;
}

const docs = loadDocs();
const ofKind = (kind: string) => docs.filter((d) => d.obj.kind === kind).map((d) => d.obj);
const one = (kind: string, name: string) => {
  const found = ofKind(kind).filter((o) => o.metadata.name === name);
  expect(found, `${kind} ${name}`).toHaveLength(1);
  return found[0]!;
};
const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

const configMap = one('ConfigMap', 'trustlink-config');
const secret = one('Secret', 'trustlink-secrets');
const deployments = ofKind('Deployment');
const server = one('Deployment', 'trustlink');
const containerOf = (d: Obj) => d.spec.template.spec.containers[0] as Obj;

/** Every value that could be set through the environment of a server container. */
const configEnv = { ...(configMap.data as Record<string, string>) };
const dockerRuntime = readDockerfile().at(-1)!;

describe('deploy/kubernetes', () => {
  it('is a set of documents of known kinds that pass the Kubernetes schemas', () => {
    expect(docs.length).toBeGreaterThanOrEqual(9);
    for (const { file, obj } of docs) {
      const key = `${obj.apiVersion}/${obj.kind}`;
      const Model = MODELS[key];
      expect(Model, `${file}: ${key} is not an expected kind`).toBeDefined();
      expect(() => new Model!(obj).validate(), `${file} ${key}`).not.toThrow();
      expect(obj.metadata?.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }
    // The schemas catch a wrong type where it matters; prove the check is live.
    const broken = structuredClone(server);
    broken.spec.replicas = 'two';
    expect(() => new Deployment(broken).validate()).toThrow(/replicas/);
  });

  it('lives in one namespace, created by the first file applied', () => {
    const ns = one('Namespace', 'trustlink');
    expect(docs[0]!.obj).toBe(ns);
    for (const { obj } of docs.filter((d) => d.obj.kind !== 'Namespace')) {
      expect(obj.metadata.namespace, `${obj.kind} ${obj.metadata.name}`).toBe('trustlink');
    }
  });

  it('runs two or more server replicas whose selectors match their pods', () => {
    expect(server.spec.replicas).toBeGreaterThanOrEqual(2);
    for (const d of deployments) {
      expect(matches(d.spec.selector.matchLabels, d.spec.template.metadata.labels)).toBe(true);
    }
    expect(deployments).toEqual([server]);
    // Rolling updates never drop below the current replica count.
    expect(server.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
  });

  it('serves MQTT from every replica, which share fan-out and revocations through Redis', () => {
    const mqttService = one('Service', 'trustlink-mqtt');
    expect(matches(mqttService.spec.selector, server.spec.template.metadata.labels)).toBe(true);
    const redis = (containerOf(server).env as Obj[]).find((e) => e.name === 'TRUSTLINK_REDIS_URL');
    expect(redis?.valueFrom?.secretKeyRef).toEqual({ name: 'trustlink-secrets', key: 'redis-url' });
    expect(secret.stringData['redis-url']).toMatch(/^rediss?:\/\//);
    // Every replica serves every firmware image from the shared database.
    expect(configMap.data.TRUSTLINK_FIRMWARE_STORE).toBe('database');
  });

  it('opens the configured ports and no others, and Services reach them', () => {
    const expected = {
      management: Number(
        configEnv.TRUSTLINK_MANAGEMENT_PORT ?? CONFIG_OPTIONS.managementPort.default,
      ),
      device: Number(configEnv.TRUSTLINK_DEVICE_PORT ?? CONFIG_OPTIONS.devicePort.default),
      mqtt: Number(configEnv.TRUSTLINK_MQTT_PORT ?? CONFIG_OPTIONS.mqttPort.default),
      pki: Number(configEnv.TRUSTLINK_PKI_HTTP_PORT ?? CONFIG_OPTIONS.pkiHttpPort.default),
    };
    // The ConfigMap keeps the defaults, which the image also exposes.
    expect(expected).toEqual({
      management: CONFIG_OPTIONS.managementPort.default,
      device: CONFIG_OPTIONS.devicePort.default,
      mqtt: CONFIG_OPTIONS.mqttPort.default,
      pki: CONFIG_OPTIONS.pkiHttpPort.default,
    });
    for (const d of deployments) {
      const ports = Object.fromEntries(
        (containerOf(d).ports as Obj[]).map((p) => [p.name, p.containerPort]),
      );
      expect(ports).toEqual(expected);
    }
    for (const svc of ofKind('Service')) {
      const selected = deployments.filter((d) =>
        matches(svc.spec.selector, d.spec.template.metadata.labels),
      );
      expect(selected.length, `Service ${svc.metadata.name} selects a Deployment`).toBeGreaterThan(
        0,
      );
      for (const port of svc.spec.ports as Obj[]) {
        expect(port.protocol).toBe('TCP');
        for (const d of selected) {
          const target = (containerOf(d).ports as Obj[]).find((p) =>
            typeof port.targetPort === 'string'
              ? p.name === port.targetPort
              : p.containerPort === port.targetPort,
          );
          expect(target, `${svc.metadata.name}:${port.name} in ${d.metadata.name}`).toBeDefined();
        }
      }
    }
  });

  it('passes device TLS (8444) and MQTT (8883) through a TCP load balancer untouched', () => {
    const byTarget = new Map<string, Obj>();
    for (const svc of ofKind('Service')) {
      for (const p of svc.spec.ports as Obj[]) byTarget.set(String(p.targetPort), svc);
    }
    for (const target of ['device', 'mqtt', 'pki']) {
      const svc = byTarget.get(target)!;
      expect(svc.spec.type, target).toBe('LoadBalancer');
      // No annotation that would make the load balancer terminate TLS or speak HTTP.
      for (const k of Object.keys(svc.metadata.annotations ?? {})) {
        expect(k).not.toMatch(/ssl|tls|cert|backend-protocol|proxy-protocol/i);
      }
    }
    // The management API may sit behind an ingress; the device paths may not.
    expect(byTarget.get('management')!.spec.type).toBe('ClusterIP');
    const devices = byTarget.get('device')!;
    expect((devices.spec.ports as Obj[]).find((p) => p.targetPort === 'device')!.port).toBe(
      CONFIG_OPTIONS.devicePort.default,
    );
    expect(
      (byTarget.get('mqtt')!.spec.ports as Obj[]).find((p) => p.targetPort === 'mqtt')!.port,
    ).toBe(CONFIG_OPTIONS.mqttPort.default);
    // The PKI is published on port 80 of the name written into certificates.
    expect((devices.spec.ports as Obj[]).find((p) => p.targetPort === 'pki')!.port).toBe(80);
    expect(configEnv.TRUSTLINK_PKI_BASE_URL).toBe(`http://${configEnv.TRUSTLINK_PUBLIC_HOSTNAME}`);
  });

  it('probes readiness on /readyz and liveness on /healthz, on a port the container opens', () => {
    for (const d of deployments) {
      const c = containerOf(d);
      const names = (c.ports as Obj[]).map((p) => p.name);
      expect(c.readinessProbe.httpGet.path).toBe('/readyz');
      expect(c.livenessProbe.httpGet.path).toBe('/healthz');
      expect(c.startupProbe.httpGet.path).toBe('/healthz');
      for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) {
        expect(names).toContain(probe.httpGet.port);
        // The plain-HTTP PKI port: no TLS trust needed by the kubelet.
        expect(probe.httpGet.port).toBe('pki');
        expect(probe.httpGet.scheme ?? 'HTTP').toBe('HTTP');
      }
      expect(c.resources.requests.cpu).toBeDefined();
      expect(c.resources.requests.memory).toBeDefined();
    }
  });

  it('runs the image user without privileges, and mounts nothing from the host', () => {
    const [uid, gid] = last(dockerRuntime, 'USER')!.args.split(':').map(Number);
    for (const d of deployments) {
      const pod = d.spec.template.spec;
      expect(pod.hostNetwork ?? false).toBe(false);
      expect(pod.hostPID ?? false).toBe(false);
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: uid,
        runAsGroup: gid,
      });
      const c = containerOf(d);
      expect(c.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
      });
      expect(c.securityContext.privileged ?? false).toBe(false);
      for (const v of pod.volumes as Obj[]) expect(v.hostPath, v.name).toBeUndefined();
    }
    expect(JSON.stringify(docs.map((d) => d.obj))).not.toContain('hostPath');
  });

  it('mounts the image volumes: the data on a shared claim, the master key from the Secret', () => {
    const imageEnv = envOf(dockerRuntime);
    // The ConfigMap names the same paths the image declares as volumes.
    expect(configEnv.TRUSTLINK_DATA_DIR).toBe(imageEnv.TRUSTLINK_DATA_DIR);
    expect(configEnv.TRUSTLINK_MASTER_KEY_FILE).toBe(imageEnv.TRUSTLINK_MASTER_KEY_FILE);
    const keyDir = path.posix.dirname(configEnv.TRUSTLINK_MASTER_KEY_FILE!);
    expect(volumesOf(dockerRuntime).sort()).toEqual([configEnv.TRUSTLINK_DATA_DIR, keyDir].sort());
    const claims = ofKind('PersistentVolumeClaim');
    for (const d of deployments) {
      const pod = d.spec.template.spec;
      const mounts = containerOf(d).volumeMounts as Obj[];
      const volume = (mountPath: string) => {
        const m = mounts.find((x) => x.mountPath === mountPath);
        expect(m, mountPath).toBeDefined();
        return { mount: m!, volume: (pod.volumes as Obj[]).find((v) => v.name === m!.name)! };
      };
      const data = volume(configEnv.TRUSTLINK_DATA_DIR!);
      const claim = claims.find(
        (c) => c.metadata.name === data.volume.persistentVolumeClaim?.claimName,
      );
      expect(claim).toBeDefined();
      // Firmware images are files in the data directory: every replica must see them.
      expect(claim!.spec.accessModes).toContain('ReadWriteMany');
      const key = volume(keyDir);
      expect(key.mount.readOnly).toBe(true);
      expect(key.mount.subPath).toBeUndefined();
      expect(key.volume.secret.secretName).toBe(secret.metadata.name);
      const item = (key.volume.secret.items as Obj[]).find(
        (i) => i.path === path.posix.basename(configEnv.TRUSTLINK_MASTER_KEY_FILE!),
      );
      expect(item).toBeDefined();
      expect(Object.keys(secret.stringData)).toContain(item!.key);
      // Read by owner and group (the pod's fsGroup), by no one else.
      expect(key.volume.secret.defaultMode).toBe(0o440);
    }
  });

  it('references only Secrets, keys and ConfigMaps that exist', () => {
    const secrets = new Map(ofKind('Secret').map((s) => [s.metadata.name, s]));
    const maps = new Map(ofKind('ConfigMap').map((m) => [m.metadata.name, m]));
    for (const d of deployments) {
      const c = containerOf(d);
      for (const from of c.envFrom as Obj[]) {
        if (from.configMapRef) expect(maps.has(from.configMapRef.name)).toBe(true);
        if (from.secretRef) expect(secrets.has(from.secretRef.name)).toBe(true);
      }
      for (const e of c.env as Obj[]) {
        const ref = e.valueFrom?.secretKeyRef;
        if (!ref) continue;
        const s = secrets.get(ref.name);
        expect(s, ref.name).toBeDefined();
        expect(Object.keys({ ...s!.data, ...s!.stringData })).toContain(ref.key);
      }
      for (const v of d.spec.template.spec.volumes as Obj[]) {
        if (v.secret) expect(secrets.has(v.secret.secretName)).toBe(true);
        if (v.configMap) expect(maps.has(v.configMap.name)).toBe(true);
      }
    }
  });

  it('sets only real options in the ConfigMap, and never a secret one', () => {
    const byEnv = new Map(Object.values(CONFIG_OPTIONS).map((o) => [o.env as string, o]));
    for (const key of Object.keys(configMap.data)) {
      const opt = byEnv.get(key);
      expect(opt, `${key} is not a configuration option`).toBeDefined();
      expect('secret' in opt! && opt.secret, key).toBeFalsy();
    }
    expect(configMap.data.TRUSTLINK_DATABASE_URL).toBeUndefined();
    expect(configMap.data.DATABASE_URL).toBeUndefined();
    // The whole configuration is accepted, with the database URL from the Secret.
    const dbEnv = (containerOf(server).env as Obj[]).find(
      (e) => e.valueFrom?.secretKeyRef?.key === 'database-url',
    )!;
    expect(dbEnv.name).toBe(CONFIG_OPTIONS.databaseUrl.env);
    const config = loadConfig({
      ...configMap.data,
      [dbEnv.name]: secret.stringData['database-url'],
      TRUSTLINK_MASTER_KEY: randomBytes(32).toString('base64'),
    });
    expect(config.databaseUrl).toMatch(/^postgres:\/\//);
    expect(config.publicHostname).toBe(configMap.data.TRUSTLINK_PUBLIC_HOSTNAME);
  });

  it('ships placeholders in the Secret, never a usable key', () => {
    const key = String(secret.stringData['master.key']);
    // A real key is 32 bytes of base64; the placeholder must not be one (the server refuses it).
    expect(Buffer.from(key, 'base64').length).not.toBe(32);
    expect(key).toMatch(/REPLACE/);
    expect(String(secret.stringData['database-url'])).toMatch(/CHANGE-ME/);
    expect(secret.data).toBeUndefined();
  });

  it('keeps a server replica up through voluntary disruptions', () => {
    const pdbs = ofKind('PodDisruptionBudget');
    expect(pdbs).toHaveLength(1);
    const pdb = pdbs[0]!;
    expect(matches(pdb.spec.selector.matchLabels, server.spec.template.metadata.labels)).toBe(true);
    expect(pdb.spec.minAvailable).toBeGreaterThanOrEqual(1);
    expect(pdb.spec.minAvailable).toBeLessThan(server.spec.replicas);
  });
});
