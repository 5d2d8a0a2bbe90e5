#!/usr/bin/env python3
"""Makes a CRL with Python `cryptography`, an implementation independent of kepgate's, for the
integration tests of the CRL checks (tests/api/support/crl_lists.rs): complete and delta lists
(DeltaCRLIndicator), IssuingDistributionPoint, unknown critical extensions on the list or on an
entry, and a list without nextUpdate (which `cryptography` refuses to build, so its tbsCertList is
rewritten without the field and signed again with the CA's key).

Usage: make_crl.py SPEC.json > list.crl (DER). SPEC:
  {"ca_cert": "ca.pem", "ca_key": "ca.key",       PEM; the key P-256
   "this_update": 1767225600, "next_update": 1767229200 | null,   Unix seconds
   "number": 12, "delta_base": 11 | null,
   "revoked": [{"serial": "1A2B", "at": 1767225600,
                "reason": "key_compromise" | "remove_from_crl" | ... | null,
                "critical_extension": false}],
   "idp": null | {"full_name": ["http://..."], "only_user": false, "only_ca": false},
   "critical_extension": false}
"""
import datetime
import json
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ObjectIdentifier

# A private arc no implementation knows: an extension nobody can process.
UNKNOWN = ObjectIdentifier("1.3.6.1.4.1.55555.7")
NULL = b"\x05\x00"


def when(seconds):
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)


def entry(spec):
    builder = (
        x509.RevokedCertificateBuilder()
        .serial_number(int(spec["serial"], 16))
        .revocation_date(when(spec["at"]))
    )
    if spec.get("reason"):
        reason = x509.ReasonFlags[spec["reason"]]
        builder = builder.add_extension(x509.CRLReason(reason), critical=False)
    if spec.get("critical_extension"):
        builder = builder.add_extension(x509.UnrecognizedExtension(UNKNOWN, NULL), critical=True)
    return builder.build()


def build(spec, ca, key):
    this_update = when(spec["this_update"])
    # Without nextUpdate: built with one, which is taken out afterwards.
    next_update = spec["next_update"]
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.subject)
        .last_update(this_update)
        .next_update(when(next_update) if next_update is not None else this_update)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.public_key()), critical=False
        )
        .add_extension(x509.CRLNumber(spec["number"]), critical=False)
    )
    if spec.get("delta_base") is not None:
        builder = builder.add_extension(x509.DeltaCRLIndicator(spec["delta_base"]), critical=True)
    idp = spec.get("idp")
    if idp:
        names = [x509.UniformResourceIdentifier(u) for u in idp.get("full_name", [])]
        point = x509.IssuingDistributionPoint(
            full_name=names or None,
            relative_name=None,
            only_contains_user_certs=idp.get("only_user", False),
            only_contains_ca_certs=idp.get("only_ca", False),
            only_some_reasons=None,
            indirect_crl=False,
            only_contains_attribute_certs=False,
        )
        builder = builder.add_extension(point, critical=True)
    if spec.get("critical_extension"):
        builder = builder.add_extension(x509.UnrecognizedExtension(UNKNOWN, NULL), critical=True)
    for revoked in spec.get("revoked", []):
        builder = builder.add_revoked_certificate(entry(revoked))
    der = builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
    return der if next_update is not None else without_next_update(der, key)


# DER, just enough to take one field out of a tbsCertList and put the list together again.


def read_tlv(data, at):
    """(tag, start of contents, end of element) of the element at `at`."""
    tag, length = data[at], data[at + 1]
    at += 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[at : at + count], "big")
        at += count
    return tag, at, at + length


def children(data, start, end):
    out = []
    while start < end:
        tag, body, after = read_tlv(data, start)
        out.append((tag, data[start:after]))
        start = after
    return out


def tlv(tag, body):
    n = len(body)
    if n < 0x80:
        return bytes([tag, n]) + body
    octets = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(octets)]) + octets + body


def without_next_update(der, key):
    _, body, end = read_tlv(der, 0)
    tbs, algorithm, _signature = children(der, body, end)
    _, tbs_body, tbs_end = read_tlv(tbs[1], 0)
    fields = children(tbs[1], tbs_body, tbs_end)
    # version, signature, issuer, thisUpdate, nextUpdate, ...
    assert fields[0][0] == 0x02 and fields[4][0] in (0x17, 0x18), "unexpected tbsCertList"
    new_tbs = tlv(0x30, b"".join(raw for i, (_, raw) in enumerate(fields) if i != 4))
    signature = key.sign(new_tbs, ec.ECDSA(hashes.SHA256()))
    return tlv(0x30, new_tbs + algorithm[1] + tlv(0x03, b"\x00" + signature))


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    with open(spec["ca_cert"], "rb") as f:
        ca = x509.load_pem_x509_certificate(f.read())
    with open(spec["ca_key"], "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    sys.stdout.buffer.write(build(spec, ca, key))


if __name__ == "__main__":
    main()
