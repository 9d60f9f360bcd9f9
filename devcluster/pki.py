"""Certificates and keys for one throw-away control plane: a CA, the API server's serving
certificate, client certificates (admin, controller manager) and the service-account signing key.

Generated fresh for every start, so no secret is ever committed or reused between runs.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# Long enough for any test session or demo; short enough that a leaked file is soon worthless.
VALIDITY = datetime.timedelta(days=2)


@dataclass(frozen=True)
class KeyPair:
    """A certificate and its private key, as PEM files."""

    cert: Path
    key: Path


@dataclass(frozen=True)
class Pki:
    """Every file the control plane components are started with."""

    ca: KeyPair
    serving: KeyPair
    admin: KeyPair
    controller_manager: KeyPair
    scheduler: KeyPair
    kubelet: KeyPair  # the node's client certificate (system:node:<name>)
    apiserver_kubelet_client: KeyPair  # the API server's certificate towards the kubelet
    service_account_key: Path  # private key that signs service-account tokens
    service_account_pub: Path  # its public key, for the API server to verify them


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def _name(common_name: str, organization: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    return x509.Name(attributes)


def _issue(
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
    *,
    ca: bool = False,
    usage: x509.ObjectIdentifier | None = None,
    sans: list[x509.GeneralName] | None = None,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    issuer_name, issuer_key = issuer if issuer else (subject, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    if usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _save(
    folder: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> KeyPair:
    pair = KeyPair(cert=folder / f"{stem}.crt", key=folder / f"{stem}.key")
    pair.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(pair.key, key)
    return pair


# The one node of the development cluster; its client certificate names it (NodeRestriction).
NODE_NAME = "scheduledrun-node"
# The `kubernetes` Service's ClusterIP (first address of the service range): pods dial it.
KUBERNETES_SERVICE_IP = "10.0.0.1"


def generate(folder: Path) -> Pki:
    """Write a fresh CA, serving and client certificates and the service-account key into folder."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("scheduledrun-test-ca")
    ca_cert = _issue(ca_name, ca_key, None, ca=True)
    issuer = (ca_name, ca_key)

    def leaf(
        stem: str,
        subject: x509.Name,
        usage: x509.ObjectIdentifier,
        sans: list[x509.GeneralName] | None = None,
    ) -> KeyPair:
        key = ec.generate_private_key(ec.SECP256R1())
        return _save(folder, stem, _issue(subject, key, issuer, usage=usage, sans=sans), key)

    serving = leaf(
        "apiserver",
        _name("kube-apiserver"),
        ExtendedKeyUsageOID.SERVER_AUTH,
        [
            x509.DNSName("localhost"),
            x509.DNSName("kubernetes"),
            x509.DNSName("kubernetes.default.svc"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address(KUBERNETES_SERVICE_IP)),
        ],
    )
    # system:masters is the group Kubernetes' bootstrap RBAC binds to cluster-admin.
    admin = leaf(
        "admin", _name("scheduledrun-admin", "system:masters"), ExtendedKeyUsageOID.CLIENT_AUTH
    )
    controller_manager = leaf(
        "controller-manager",
        _name("system:kube-controller-manager"),
        ExtendedKeyUsageOID.CLIENT_AUTH,
    )
    scheduler = leaf("scheduler", _name("system:kube-scheduler"), ExtendedKeyUsageOID.CLIENT_AUTH)
    kubelet = leaf(
        "kubelet",
        _name(f"system:node:{NODE_NAME}", "system:nodes"),
        ExtendedKeyUsageOID.CLIENT_AUTH,
    )
    apiserver_kubelet_client = leaf(
        "apiserver-kubelet-client",
        _name("kube-apiserver-kubelet-client", "system:masters"),
        ExtendedKeyUsageOID.CLIENT_AUTH,
    )

    # RSA: the signing algorithm every Kubernetes token consumer accepts (RS256).
    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    sa_private = folder / "service-account.key"
    sa_public = folder / "service-account.pub"
    _write_key(sa_private, sa_key)
    sa_public.write_bytes(
        sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return Pki(
        ca=_save(folder, "ca", ca_cert, ca_key),
        serving=serving,
        admin=admin,
        controller_manager=controller_manager,
        scheduler=scheduler,
        kubelet=kubelet,
        apiserver_kubelet_client=apiserver_kubelet_client,
        service_account_key=sa_private,
        service_account_pub=sa_public,
    )
