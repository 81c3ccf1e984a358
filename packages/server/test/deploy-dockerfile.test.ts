import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_OPTIONS } from '../src/config.js';
import { DEFAULT_CONSOLE_DIR } from '../src/console/console-routes.js';
import {
  DOCKERFILE,
  envOf,
  execForm,
  instructions,
  last,
  parseDockerfile,
  readDockerfile,
  REPO_ROOT,
  repoPathOfImagePath,
  volumesOf,
} from '../src/test-helpers/test-dockerfile.js';

/*
 * What can be checked of deploy/Dockerfile without a container engine (none runs here, so
 * the image itself is never built by the tests): base images, user, ports, volumes,
 * entrypoint and health check. deploy-entrypoint.test.ts runs the entrypoint it names.
 */
const stages = readDockerfile();
const runtime = stages.at(-1)!;
const build = stages[0]!;
const ENTRYPOINT = execForm(last(runtime, 'ENTRYPOINT')!.args);
const SCRIPT = repoPathOfImagePath(ENTRYPOINT[0]!);

const portEnv = {
  managementPort: CONFIG_OPTIONS.managementPort.default,
  devicePort: CONFIG_OPTIONS.devicePort.default,
  mqttPort: CONFIG_OPTIONS.mqttPort.default,
  pkiHttpPort: CONFIG_OPTIONS.pkiHttpPort.default,
};

describe('the Dockerfile parser', () => {
  it('joins continued lines, drops comments, splits stages', () => {
    const parsed = parseDockerfile(
      '# c\nFROM a:1 AS b\nRUN x \\\n  # inner comment\n  && y\nFROM c:2\nENV A=1 \\\n B=2\nCMD ["z"]\n',
    );
    expect(parsed.map((s) => [s.image, s.name])).toEqual([
      ['a:1', 'b'],
      ['c:2', undefined],
    ]);
    expect(parsed[0]!.instructions).toEqual([{ keyword: 'RUN', args: 'x && y', line: 3 }]);
    expect(envOf(parsed[1]!)).toEqual({ A: '1', B: '2' });
    expect(() => parseDockerfile('RUN x\n')).toThrow(/before FROM/);
    expect(() => execForm('z')).toThrow();
  });
});

describe('deploy/Dockerfile', () => {
  it('builds in one stage and runs in another, both on a pinned Node 20 bookworm image', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const s of stages) {
      // A full release (major.minor.patch), never a floating tag; a digest may follow.
      expect(s.image).toMatch(/^node:20\.\d+\.\d+-bookworm(-slim)?(@sha256:[0-9a-f]{64})?$/);
    }
    expect(build.name).toBe('build');
    const runs = instructions(build, 'RUN').map((r) => r.args);
    const order = ['npm ci', 'npm run build', 'npm prune --omit=dev'].map((cmd) =>
      runs.findIndex((r) => r.includes(cmd)),
    );
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((x, y) => x - y)).toEqual(order);
    // The runtime stage takes only the build stage's output, and installs nothing itself.
    const copies = instructions(runtime, 'COPY').map((c) => c.args);
    expect(copies).toEqual(['--from=build /out/ /app/']);
    expect(instructions(runtime, 'RUN').some((r) => /npm (ci|install)/.test(r.args))).toBe(false);
  });

  it('runs as a user that is not root', () => {
    const user = last(runtime, 'USER')!.args;
    const [uid, gid] = user.split(':');
    expect(uid).toMatch(/^\d+$/);
    expect(Number(uid)).toBeGreaterThan(0);
    expect(Number(gid)).toBeGreaterThan(0);
    // The user the RUN step creates is the one USER names.
    const create = instructions(runtime, 'RUN').find((r) => r.args.includes('useradd'))!.args;
    expect(create).toContain(`--uid ${uid}`);
    expect(create).toContain(`--gid ${gid}`);
  });

  it('exposes exactly the four ports of the default configuration', () => {
    const exposed = instructions(runtime, 'EXPOSE').flatMap((e) => e.args.split(' ').map(Number));
    expect(exposed.sort()).toEqual(Object.values(portEnv).sort());
    // And the image does not move them through ENV.
    const env = envOf(runtime);
    for (const key of Object.keys(portEnv) as (keyof typeof portEnv)[]) {
      expect(env[CONFIG_OPTIONS[key].env]).toBeUndefined();
    }
  });

  it('keeps the data directory and the master key on separate volumes', () => {
    const env = envOf(runtime);
    for (const k of Object.keys(env).filter((k) => k.startsWith('TRUSTLINK_'))) {
      expect(Object.values(CONFIG_OPTIONS).map((o) => o.env)).toContain(k);
    }
    const volumes = volumesOf(runtime);
    const dataDir = env.TRUSTLINK_DATA_DIR!;
    const keyDir = path.posix.dirname(env.TRUSTLINK_MASTER_KEY_FILE!);
    expect(volumes).toContain(dataDir);
    expect(volumes).toContain(keyDir);
    expect(path.posix.relative(dataDir, keyDir).startsWith('..')).toBe(true);
    // No secret is baked into the image.
    expect(env.TRUSTLINK_MASTER_KEY).toBeUndefined();
    expect(env.TRUSTLINK_PKCS11_PIN).toBeUndefined();
    expect(env.TRUSTLINK_DATABASE_URL).toBeUndefined();
  });

  it('starts through the entrypoint script that the entrypoint test runs', () => {
    expect(ENTRYPOINT).toEqual(['/app/deploy/docker-entrypoint.sh']);
    expect(path.relative(path.dirname(DOCKERFILE), SCRIPT)).toBe('docker-entrypoint.sh');
    expect(statSync(SCRIPT).mode & 0o111).toBe(0o111);
    expect(execForm(last(runtime, 'CMD')!.args)).toEqual(['serve']);
    expect(last(runtime, 'WORKDIR')!.args).toBe('/app');
    // The build stage installs the script from the repository to where ENTRYPOINT names it.
    const gather = instructions(build, 'RUN').find((r) => r.args.includes('docker-entrypoint'));
    expect(gather?.args).toContain(
      'install -m 0755 deploy/docker-entrypoint.sh /out/deploy/docker-entrypoint.sh',
    );
  });

  it('copies into the runtime image every workspace package the server loads', () => {
    const gather = instructions(build, 'RUN').find((r) => r.args.includes('/out/packages'))!.args;
    const copied = /for p in ([a-z ]+); do/.exec(gather)![1]!.split(' ');
    const serverPkg = JSON.parse(
      readFileSync(path.join(REPO_ROOT, 'packages/server/package.json'), 'utf8'),
    ) as {
      dependencies: Record<string, string>;
    };
    const workspaceDeps = Object.keys(serverPkg.dependencies)
      .filter((d) => d.startsWith('@trustlink/'))
      .map((d) => d.slice('@trustlink/'.length));
    expect(workspaceDeps.length).toBeGreaterThan(0);
    // The server itself, what it imports, and the console it serves (packages/web/dist).
    for (const p of ['server', 'web', ...workspaceDeps]) expect(copied).toContain(p);
    expect(path.relative(REPO_ROOT, DEFAULT_CONSOLE_DIR)).toBe('packages/web/dist');
  });

  it('checks health with /readyz through the same script', () => {
    const hc = last(runtime, 'HEALTHCHECK')!.args;
    const cmd = /^(?:--\S+\s+)*CMD (.*)$/.exec(hc);
    expect(cmd).not.toBeNull();
    expect(execForm(cmd![1]!)).toEqual([...ENTRYPOINT, 'healthcheck']);
    const script = readFileSync(SCRIPT, 'utf8');
    const body = /healthcheck\(\) \{([\s\S]*?)\n\}/.exec(script)![1]!;
    expect(body).toContain('path: "/readyz"');
    expect(body).toContain(
      'TRUSTLINK_PKI_HTTP_PORT:-' + String(CONFIG_OPTIONS.pkiHttpPort.default),
    );
  });

  it('leaves dependencies, local state and keys out of the build context', () => {
    const ignore = readFileSync(`${DOCKERFILE}.dockerignore`, 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    for (const entry of ['**/node_modules', '**/dist', 'data', 'secrets', '**/*.key', '.git']) {
      expect(ignore).toContain(entry);
    }
  });
});
