import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

export interface ServingCertificate {
  /** PEM of the self-signed certificate: also the CA a client must trust. */
  certPem: string;
  keyPem: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * A self-signed serving certificate for a loopback API server, valid for `localhost`, 127.0.0.1 and
 * ::1 (and `host` when it is another name or address). It is its own CA, so a kubeconfig can carry it
 * in `certificate-authority-data`. Go (kubectl) checks the subjectAltName, never the common name.
 * The key comes from Node's crypto (fast, native); node-forge only builds and signs the X.509 body,
 * which Node 20 cannot do itself.
 */
export function selfSignedCertificate(host: string, now = Date.now()): ServingCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  // A positive serial: the high bit clear.
  cert.serialNumber = `0${randomBytes(15).toString('hex')}`;
  cert.validity.notBefore = new Date(now - DAY_MS);
  cert.validity.notAfter = new Date(now + 365 * DAY_MS);
  const subject = [
    { name: 'commonName', value: 'switchyard-kube-emulator' },
    { name: 'organizationName', value: 'Switchyard' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', critical: true, keyCertSign: true, digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: altNames(host) },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(privateKey), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: privateKey };
}

const DNS = 2;
const IP = 7;

function altNames(host: string): Array<{ type: number; value?: string; ip?: string }> {
  const names: Array<{ type: number; value?: string; ip?: string }> = [
    { type: DNS, value: 'localhost' },
    { type: IP, ip: '127.0.0.1' },
    { type: IP, ip: '::1' },
  ];
  const bare = host.replace(/^\[|\]$/g, '');
  if (['localhost', '127.0.0.1', '::1', '0.0.0.0', '::'].includes(bare)) return names;
  const isIp = /^[\d.]+$/.test(bare) || bare.includes(':');
  names.push(isIp ? { type: IP, ip: bare } : { type: DNS, value: bare });
  return names;
}
