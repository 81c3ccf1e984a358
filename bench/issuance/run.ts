/**
 * bench/issuance: device certificates issued per second from PKCS#10 requests (parse, verify,
 * build, sign; storing is the enrolment benchmark's part), with the software key store and
 * with SoftHSM2, beside Node's raw ECDSA P-256 rate measured in the same run.
 *
 * Rates are per CPU-second of this process (user + system time of all its threads), so they
 * mean "on one core" even on a busy machine; wall-clock rates are printed too. Each
 * measurement is repeated and the best round kept; rounds are interleaved so drift in the
 * machine's load hits every contender alike.
 *
 *   npm run bench:issuance            (BENCH_N=4000 requests, BENCH_ROUNDS=3)
 */
import 'reflect-metadata';
import { cpus } from 'node:os';
import {
  KeyObject,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  webcrypto,
} from 'node:crypto';
import { Pkcs10CertificateRequest } from '@peculiar/x509';
import { referenceDeviceTbs } from '../../packages/server/src/test-helpers/reference-device-cert.js';
import { deviceKey, makeCsr } from '../../packages/server/src/test-helpers/test-csr.js';
import { createTestHsm } from '../../packages/server/src/test-helpers/test-hsm.js';
import { createTestPki, type TestPki } from '../../packages/server/src/test-helpers/test-pki.js';
import { parseCsr } from '../../packages/server/src/pki/csr-fns.js';
import { randomDeviceSerial } from '../../packages/server/src/pki/issuance-engine.js';
import { subjectKeyId } from '../../packages/server/src/pki/certificate-builder.js';
import { issuerNameDer } from '../../packages/server/src/pki/cert-fns.js';
import { writeSection } from '../bench-report.js';

const N = Number(process.env.BENCH_N ?? 4000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const NAIVE_N = Math.min(N, 300);

interface Sample {
  perCpuSecond: number;
  perWallSecond: number;
}

async function measure(count: number, run: () => Promise<void>): Promise<Sample> {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  await run();
  const wall = (performance.now() - t0) / 1000;
  const used = process.cpuUsage(cpu);
  return { perCpuSecond: count / ((used.user + used.system) / 1e6), perWallSecond: count / wall };
}

const best = (a: Sample | undefined, b: Sample): Sample =>
  !a || b.perCpuSecond > a.perCpuSecond ? b : a;

async function main() {
  process.stderr.write(`preparing ${N} device keys and CSRs...\n`);
  const keys = Array.from({ length: N }, () => deviceKey('P-256'));
  const csrs = keys.map((k) => makeCsr(k));
  const parsed = csrs.map((c) => {
    const p = parseCsr(c);
    if (!p.ok) throw new Error(p.reason);
    return p.csr;
  });
  const preloaded = keys.map((k) => createPublicKey(k.privateKey));
  const caKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
  const tbsLike = Buffer.alloc(520, 7); // about the size of a device TBSCertificate

  const software: TestPki = await createTestPki('sqlite');
  const { hsm } = createTestHsm('pkcs11');
  const softhsm: TestPki = await createTestPki('sqlite', { hsm });
  const caSw = await software.pki.issuingCas.create(software.instanceId, {
    name: 'bench',
    lifetimeSeconds: 365 * 86400,
  });
  const caHsm = await softhsm.pki.issuingCas.create(softhsm.instanceId, {
    name: 'bench',
    lifetimeSeconds: 365 * 86400,
  });
  const issuerKey = await software.keystore.publicKey(software.instanceId, caSw.keyId);

  const issueAll = (tp: TestPki, caId: string) => async () => {
    for (let i = 0; i < N; i++) {
      await tp.pki.engine.build({
        instanceId: tp.instanceId,
        issuingCaId: caId,
        csrDer: csrs[i]!,
        deviceId: keys[i]!.deviceId,
        lifetimeSeconds: 365 * 86400,
      });
    }
  };
  // Warm the prepared issuers and the JIT once.
  await tp0(software, caSw.id);
  await tp0(softhsm, caHsm.id);
  async function tp0(tp: TestPki, caId: string) {
    for (let i = 0; i < 200; i++) {
      await tp.pki.engine.build({
        instanceId: tp.instanceId,
        issuingCaId: caId,
        csrDer: csrs[i % N]!,
        deviceId: keys[i % N]!.deviceId,
        lifetimeSeconds: 86400,
      });
    }
  }

  const contenders: Record<string, [number, () => Promise<void>]> = {
    'raw: verify (key pre-loaded) + sign': [
      N,
      async () => {
        for (let i = 0; i < N; i++) {
          if (!verify('sha256', parsed[i]!.info, preloaded[i]!, parsed[i]!.signature))
            throw new Error('verify');
          sign('sha256', tbsLike, caKey);
        }
      },
    ],
    "raw: verify (CSR's key loaded) + sign": [
      N,
      async () => {
        for (let i = 0; i < N; i++) {
          const ck = await webcrypto.subtle.importKey(
            'raw',
            parsed[i]!.key.ecPoint!,
            { name: 'ECDSA', namedCurve: 'P-256' },
            true,
            ['verify'],
          );
          if (!verify('sha256', parsed[i]!.info, KeyObject.from(ck), parsed[i]!.signature))
            throw new Error('verify');
          sign('sha256', tbsLike, caKey);
        }
      },
    ],
    'engine, software key store': [N, issueAll(software, caSw.id)],
    'engine, SoftHSM2 (PKCS#11)': [N, issueAll(softhsm, caHsm.id)],
    'naive: general ASN.1 (@peculiar/x509 + asn1-x509)': [
      NAIVE_N,
      async () => {
        const profile = {
          issuerNameDer: issuerNameDer(caSw.der),
          authorityKeyId: subjectKeyId(issuerKey.publicKeyDer),
          scheme: 'ecdsa-sha256' as const,
          crlUrl: 'http://x/a.crl',
          ocspUrl: 'http://x/ocsp',
          caIssuersUrl: 'http://x/a.crt',
        };
        for (let i = 0; i < NAIVE_N; i++) {
          const req = new Pkcs10CertificateRequest(csrs[i]!);
          if (!(await req.verify())) throw new Error('verify');
          const spki = Buffer.from(req.publicKey.rawData);
          const t = new Date();
          const tbs = await referenceDeviceTbs(profile, {
            serial: randomDeviceSerial(),
            notBefore: t,
            notAfter: new Date(t.getTime() + 86400e3),
            deviceId: keys[i]!.deviceId,
            spkiDer: spki,
            publicKeyBits: parsed[i]!.key.publicKeyBits,
          });
          sign('sha256', tbs, caKey);
        }
      },
    ],
  };

  const results: Record<string, Sample | undefined> = {};
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, [count, run]] of Object.entries(contenders)) {
      results[name] = best(results[name], await measure(count, run));
    }
    process.stderr.write(`round ${r + 1}/${ROUNDS} done\n`);
  }

  const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(8);
  const lines = [
    '',
    `bench/issuance: ${N} P-256 CSRs (naive: ${NAIVE_N}), best of ${ROUNDS} rounds`,
    `node ${process.version}, OpenSSL ${process.versions.openssl}, ${cpus()[0]?.model ?? '?'}, ${cpus().length} CPUs`,
    '',
    `${'what'.padEnd(52)} ${'per CPU-s'.padStart(9)} ${'per wall-s'.padStart(10)}`,
  ];
  for (const [name, s] of Object.entries(results)) {
    lines.push(`${name.padEnd(52)} ${fmt(s!.perCpuSecond)}  ${fmt(s!.perWallSecond)}`);
  }
  const rawLoaded = results["raw: verify (CSR's key loaded) + sign"]!.perCpuSecond;
  const rawPre = results['raw: verify (key pre-loaded) + sign']!.perCpuSecond;
  const sw = results['engine, software key store']!.perCpuSecond;
  const hw = results['engine, SoftHSM2 (PKCS#11)']!.perCpuSecond;
  const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(0)}%`;
  lines.push(
    '',
    `ratio software engine / raw with the CSR's key loaded:  ${(sw / rawLoaded).toFixed(2)} (${pct(sw, rawLoaded)})`,
    `ratio software engine / raw with a pre-loaded key:      ${(sw / rawPre).toFixed(2)} (${pct(sw, rawPre)})`,
    `ratio SoftHSM2 engine / raw with the CSR's key loaded:  ${(hw / rawLoaded).toFixed(2)} (${pct(hw, rawLoaded)})`,
    '',
  );
  process.stdout.write(lines.join('\n') + '\n');
  const n = (x: number) => Math.round(x).toLocaleString('en-US');
  await writeSection('issuance', {
    title: 'Issuance (`npm run bench:issuance`)',
    header: ['what', 'per CPU-second', 'per wall-second'],
    rows: Object.entries(results).map(([name, r]) => [
      name.startsWith('engine, software') ? `**${name}**` : name,
      n(r!.perCpuSecond),
      n(r!.perWallSecond),
    ]),
    notes: [
      `${N} P-256 CSRs (naive: ${NAIVE_N}), best of ${ROUNDS} rounds, rounds interleaved.`,
      `Software engine / raw with the CSR's key loaded: **${(sw / rawLoaded).toFixed(2)}**; / raw with a pre-loaded key: ${(sw / rawPre).toFixed(2)}; SoftHSM2 engine / raw with the CSR's key loaded: ${(hw / rawLoaded).toFixed(2)}.`,
    ],
  });

  await software.close();
  await softhsm.close();
  hsm?.close();
}

await main();
