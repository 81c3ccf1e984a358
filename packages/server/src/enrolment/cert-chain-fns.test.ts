import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { factoryPki, type FactoryCa } from '../test-helpers/test-factory-ca.js';
import { testDevice, type TestDevice } from '../test-helpers/test-devices.js';
import { chainToAnchor, isSelfSigned, serialOf } from './cert-chain-fns.js';

const der = (pem: string) => new X509Certificate(pem).raw;

describe('factory certificate chains', () => {
  let pki: ReturnType<typeof factoryPki>;
  let root: FactoryCa;
  let inter: FactoryCa;
  let other: FactoryCa;
  let device: TestDevice;
  let leafDirect: Buffer;
  let leafViaInter: Buffer;
  const now = new Date();

  beforeAll(async () => {
    pki = factoryPki();
    root = pki.root('Chain root');
    inter = pki.intermediate(root, 'Chain intermediate');
    other = pki.root('Other root');
    device = await testDevice();
    leafDirect = der(pki.deviceCertificate(root, device));
    leafViaInter = der(pki.deviceCertificate(inter, device));
  });
  afterAll(() => pki?.remove());

  const anchors = () => [
    { id: 'root', der: der(root.pem) },
    { id: 'other', der: der(other.pem) },
  ];

  it('ok/leaf signed by an anchor', () => {
    expect(chainToAnchor(leafDirect, [], anchors(), now)).toEqual({
      ok: true,
      anchorId: 'root',
      path: [leafDirect],
    });
  });
  it('ok/through an intermediate the device sent (extra certificates ignored)', () => {
    const r = chainToAnchor(leafViaInter, [der(other.pem), der(inter.pem)], anchors(), now);
    expect(r).toMatchObject({ ok: true, anchorId: 'root' });
    if (r.ok) expect(r.path).toHaveLength(2);
  });
  it('fail/the intermediate missing', () => {
    expect(chainToAnchor(leafViaInter, [], anchors(), now)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/ends at "O=Factory, CN=Chain intermediate"/),
    });
  });
  it('fail/no anchor at all', () => {
    expect(chainToAnchor(leafDirect, [], [{ id: 'other', der: der(other.pem) }], now).ok).toBe(
      false,
    );
  });
  it('fail/a certificate that did not sign the leaf does not extend the chain', async () => {
    const d2 = await testDevice();
    const unrelated = der(pki.deviceCertificate(root, d2));
    expect(chainToAnchor(leafViaInter, [unrelated], anchors(), now).ok).toBe(false);
  });
  it('fail/expired and not yet valid', () => {
    const later = new Date(now.getTime() + 20 * 365 * 24 * 3600_000);
    expect(chainToAnchor(leafDirect, [], anchors(), later)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/factory certificate expired at/),
    });
    const earlier = new Date(now.getTime() - 24 * 3600_000);
    expect(chainToAnchor(leafDirect, [], anchors(), earlier)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/not valid before/),
    });
  });
  it('fail/not a certificate', () => {
    expect(chainToAnchor(Buffer.from('nope'), [], anchors(), now)).toMatchObject({ ok: false });
  });
  it('ok/self-signed bootstrap certificates, without keyCertSign, are self-signed', () => {
    expect(isSelfSigned(new X509Certificate(device.bootstrapPem))).toBe(true);
    expect(isSelfSigned(new X509Certificate(leafDirect))).toBe(false);
  });
  it('ok/serials as the PKI stores them', () => {
    const x = new X509Certificate(root.pem);
    expect(serialOf(x)).toMatch(/^[0-9a-f]+$/);
    expect(serialOf(x)).not.toMatch(/^00/);
  });
});
