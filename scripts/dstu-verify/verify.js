// Verifies a detached CMS/CAdES signature made with DSTU 4145 over GOST 34.311-95 with code
// nobody on kepgate wrote: jkurwa (dstucrypt/jkurwa) for the curve arithmetic and the certificate
// and CMS models (with its asn1.js), gost89 (dstucrypt/gost89) for the hash. Run it through
// scripts/verify-dstu-p7s.sh, which installs them and points NODE_PATH at them.
//
//   node verify.js <file> <p7s DER> [<CA certificate PEM or DER>...]
//
// Prints `OK <signer CN or serial>` and exits 0, or `FAIL <why>` and exits 1.
"use strict";

const fs = require("fs");
const gost89 = require("gost89");
const jk = require("jkurwa");

const { Message, Certificate } = jk.models;
const pem = require("jkurwa/lib/util/pem.js");
const { formatDN } = require("jkurwa/lib/models/Certificate.js");
const { ContentType } = require("jkurwa/lib/spec/dstszi2010.js");

class Failure extends Error {}
function need(ok, why) {
  if (!ok) throw new Failure(why);
}

const gost34311 = (bytes) => gost89.gosthash(bytes);

// The exact octets under a signature, cut out of the DER as received: a signature is over the
// bytes that were signed, not over a re-encoding of what a parser understood of them (jkurwa's
// Message.verify and Certificate.verifySignature re-encode; its asn1.js 4.9.1 `any()` returns
// from an element to the end of its parent, so it cannot cut them either). Only lengths are read
// here; every value is decoded by jkurwa.
function children(der, start = 0) {
  const header = (at) => {
    const first = der[at + 1];
    if (first < 0x80) return { len: first, body: at + 2 };
    const n = first & 0x7f;
    need(n >= 1 && n <= 4 && at + 2 + n <= der.length, "unsupported DER length");
    let len = 0;
    for (let i = 0; i < n; i += 1) len = len * 256 + der[at + 2 + i];
    return { len, body: at + 2 + n };
  };
  const outer = header(start);
  const end = outer.body + outer.len;
  need(end <= der.length, "truncated DER");
  const out = [];
  for (let at = outer.body; at < end; ) {
    const { len, body } = header(at);
    need(body + len <= end, "truncated DER");
    out.push({ tag: der[at], start: at, end: body + len });
    at = body + len;
  }
  return out;
}

// The SignedData fields, from ContentInfo { oid, [0] EXPLICIT SignedData }.
function signedDataFields(p7s) {
  const content = children(p7s)[1];
  need(content && content.tag === 0xa0, "no [0] content in ContentInfo");
  return children(p7s, children(p7s, content.start)[0].start);
}

// The certificates of SignedData ([0] IMPLICIT CertificateSet), each as received.
function certificatesDer(p7s) {
  const set = signedDataFields(p7s).find((c) => c.tag === 0xa0);
  return set ? children(p7s, set.start).map((c) => Buffer.from(p7s.subarray(c.start, c.end))) : [];
}

// DER of the first SignerInfo's signed attributes as SET OF (RFC 5652 §5.4: the [0] IMPLICIT
// tag is replaced by the SET tag).
function signedAttrsDer(p7s) {
  const signerInfos = signedDataFields(p7s).pop();
  need(signerInfos.tag === 0x31, "no SignerInfos SET");
  const signerInfo = children(p7s, signerInfos.start)[0];
  const attrs = children(p7s, signerInfo.start).find((c) => c.tag === 0xa0);
  need(attrs, "no signed attributes");
  const der = Buffer.from(p7s.subarray(attrs.start, attrs.end));
  der[0] = 0x31;
  return der;
}

// The TBSCertificate octets of a certificate's DER.
function tbsDer(certDer) {
  const tbs = children(certDer)[0];
  return certDer.subarray(tbs.start, tbs.end);
}

function certFromDer(der) {
  const cert = Certificate.from_asn1(der);
  cert.rawDer = der;
  return cert;
}

function readCertificate(path) {
  return certFromDer(Buffer.from(pem.maybe_pem(fs.readFileSync(path))));
}

function name(cert) {
  return cert.subject.commonName || cert.subject.serialNumber || cert.serial.toString(16);
}

// The CMS signer's certificate: the one the SignerIdentifier names (RFC 5652 §5.3), not simply
// the first in the set, which is all jkurwa's Message.signer() looks at.
function signerCertificate(msg, certs) {
  const { type, value } = msg.info.signerInfos[0].sid;
  const match = certs.find((c) => {
    if (type === "issuerAndSerialNumber") {
      return c.issuerDN() === formatDN(value.issuer.value) && c.serial.eq(value.serialNumber);
    }
    const ski = c.extension.subjectKeyIdentifier;
    return Boolean(ski) && ski.equals(value);
  });
  need(match, "the signer's certificate is not in the CMS");
  return match;
}

// DSTU 4145 signature of `issuer` over the TBS octets of `cert` (DSTU 4145 itself signs
// gost34311(TBS) as jkurwa's Certificate.verifySignature does, but on the bytes as received).
function verifyIssuedBy(cert, issuer) {
  need(
    cert.signatureAlgorithm === "Dstu4145le",
    `${name(cert)}: certificate not signed with DSTU 4145 (LE)`
  );
  need(issuer.curve, `${name(issuer)}: CA key is not a DSTU 4145 key`);
  const ok = issuer.pubkey_unpack().verify(gost34311(tbsDer(cert.rawDer)), cert.ob.signature.data);
  need(ok, `${name(cert)}: certificate signature does not verify with the key of ${name(issuer)}`);
  const aki = cert.extension.authorityKeyIdentifier;
  const ski = issuer.extension.subjectKeyIdentifier;
  need(
    !aki || !ski || aki.equals(ski),
    `${name(cert)}: authorityKeyIdentifier is not ${name(issuer)}'s key`
  );
}

// From the signer up through the given CA certificates to a self-signed one, or as far as they go.
function verifyChain(signer, cas) {
  need(cas.length > 0, "no CA certificate");
  let cert = signer;
  for (let depth = 0; depth <= cas.length; depth += 1) {
    const issuer = cas.find((ca) => ca.subjectDN() === cert.issuerDN() && ca !== cert);
    if (!issuer) {
      need(
        cert !== signer,
        `issuer of ${name(cert)} (${cert.issuerDN()}) is not among the CA certificates`
      );
      return;
    }
    need(issuer.canUseFor("ca"), `${name(issuer)} is not a CA (basicConstraints)`);
    verifyIssuedBy(cert, issuer);
    if (issuer.isRoot()) {
      verifyIssuedBy(issuer, issuer);
      return;
    }
    cert = issuer;
  }
}

function verify(filePath, p7sPath, caPaths) {
  const file = fs.readFileSync(filePath);
  const p7s = fs.readFileSync(p7sPath);

  const msg = new Message(p7s);
  need(msg.type === "signedData", `CMS content type is ${msg.type}, not signedData`);
  need(msg.info.signerInfos.length === 1, "expected exactly one SignerInfo");
  const econtent = msg.info.contentInfo.content;
  need(!econtent || econtent.equals(file), "the CMS carries content other than the file");

  const si = msg.info.signerInfos[0];
  need(
    si.digestAlgorithm.algorithm === "Gost34311",
    `digest algorithm ${si.digestAlgorithm.algorithm}`
  );
  need(
    si.digestEncryptionAlgorithm.algorithm === "Dstu4145le",
    `signature algorithm ${si.digestEncryptionAlgorithm.algorithm}`
  );
  need(msg.attrs, "no signed attributes");

  const certs = certificatesDer(p7s).map(certFromDer);
  const signer = signerCertificate(msg, certs);
  need(signer.curve, "the signer's key is not a DSTU 4145 (LE) key");
  need(
    signer.pubkey_unpack().validate(),
    "the signer's public key is not a point of order n on its curve"
  );

  // contentType and messageDigest (RFC 5652 §11.1, §11.2), each exactly once.
  const attrs = msg.pattrs.list;
  const one = (type) => {
    const found = attrs.filter((a) => a.type === type);
    need(
      found.length === 1 && found[0].values.length === 1,
      `signed attribute ${type}: not exactly one`
    );
    return found[0].values[0];
  };
  need(
    ContentType.decode(one("contentType"), "der") === "data",
    "contentType attribute is not id-data"
  );
  one("messageDigest");
  const digest = msg.pattrs.messageDigest;
  need(
    digest && digest.equals(gost34311(file)),
    "messageDigest is not the GOST 34.311 hash of the file"
  );

  // The signature is over the DER of the signed attributes as SET OF (RFC 5652 §5.4).
  const signedAttrsHash = gost34311(signedAttrsDer(p7s));
  const ok = signer.pubkey_unpack().verify(signedAttrsHash, si.encryptedDigest, "le");
  need(ok, "DSTU 4145 signature does not verify with the signer's certificate");

  // jkurwa's own end-to-end check too (messageDigest, signingTime within the certificate's
  // validity, signature over its re-encoding of the attributes), given the detached content.
  msg.info.contentInfo.content = file;
  msg.info.certificate = [signer.ob];
  need(msg.verify(gost34311, () => signer), "jkurwa's Message.verify rejects it");

  if (caPaths.length > 0) verifyChain(signer, caPaths.map(readCertificate));
  return name(signer);
}

function main(argv) {
  if (argv.length < 2) {
    process.stdout.write("usage: verify.js <file> <p7s DER> [<CA cert PEM or DER>...]\n");
    return 2;
  }
  try {
    const who = verify(argv[0], argv[1], argv.slice(2));
    process.stdout.write(`OK ${who}\n`);
    return 0;
  } catch (e) {
    const why = e instanceof Failure ? e.message : `cannot parse or verify: ${e.message}`;
    process.stdout.write(`FAIL ${why}\n`);
    return 1;
  }
}

process.exitCode = main(process.argv.slice(2));
