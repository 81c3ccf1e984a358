import 'reflect-metadata';
import { createHash, X509Certificate as NodeX509 } from 'node:crypto';
import {
  BasicConstraintsExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  X509Certificate,
} from '@peculiar/x509';

export const AUTH_CERT_RULES = ['must-pre-register', 'requires-token'] as const;
export type AuthCertRule = (typeof AUTH_CERT_RULES)[number];

export interface ParsedCaCertificate {
  der: Buffer;
  subject: string;
  commonName: string | undefined;
  fingerprint: string;
  notBefore: string;
  notAfter: string;
}

export type CaCheck = { ok: true; cert: ParsedCaCertificate } | { ok: false; reason: string };

const CLOCK_SKEW_MS = 5 * 60_000;
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/**
 * Checks that a PEM holds exactly one certificate that may sign others (basicConstraints CA,
 * and keyCertSign where key usage is stated) and is valid now. A private key in the paste is
 * refused outright: it should never travel to us.
 */
export function checkCaCertificatePem(pem: string, now: Date): CaCheck {
  const blocks = [...pem.matchAll(PEM_BLOCK)];
  if (blocks.some((b) => /PRIVATE KEY/.test(b[1]!))) {
    return {
      ok: false,
      reason:
        'the PEM holds a private key; import only the CA certificate (and keep the key secret)',
    };
  }
  const certs = blocks.filter((b) => b[1] === 'CERTIFICATE');
  if (certs.length === 0)
    return { ok: false, reason: 'no PEM certificate found (expected -----BEGIN CERTIFICATE-----)' };
  if (certs.length > 1)
    return {
      ok: false,
      reason: `the PEM holds ${certs.length} certificates; import one CA certificate at a time`,
    };
  const der = Buffer.from(certs[0]![2]!.replace(/\s+/g, ''), 'base64');
  let node: NodeX509;
  let x: X509Certificate;
  try {
    node = new NodeX509(der);
    x = new X509Certificate(der);
  } catch {
    return { ok: false, reason: 'the certificate is malformed (not valid DER X.509)' };
  }
  const bc = x.getExtension(BasicConstraintsExtension);
  if (!bc?.ca)
    return { ok: false, reason: 'not a CA certificate (basicConstraints does not say CA:TRUE)' };
  const ku = x.getExtension(KeyUsagesExtension);
  if (ku && !(ku.usages & KeyUsageFlags.keyCertSign)) {
    return {
      ok: false,
      reason: 'the certificate may not sign certificates (keyUsage lacks keyCertSign)',
    };
  }
  const notBefore = new Date(node.validFrom);
  const notAfter = new Date(node.validTo);
  if (notAfter.getTime() <= now.getTime())
    return { ok: false, reason: `the certificate expired on ${notAfter.toISOString()}` };
  // A CA made minutes ago on a machine whose clock runs ahead is still accepted.
  if (notBefore.getTime() > now.getTime() + CLOCK_SKEW_MS)
    return { ok: false, reason: `the certificate is not valid before ${notBefore.toISOString()}` };
  const subject = node.subject.replace(/\n/g, ', ');
  return {
    ok: true,
    cert: {
      der,
      subject,
      commonName: /(?:^|, )CN=([^,]+)/.exec(subject)?.[1],
      fingerprint: createHash('sha256').update(der).digest('hex'),
      notBefore: notBefore.toISOString(),
      notAfter: notAfter.toISOString(),
    },
  };
}
