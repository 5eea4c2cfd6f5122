"""docs/security.md holds: the whole workload runs with each service under exactly its ACL
and Redis denies nothing; ``rediss://`` refuses a certificate no trusted CA signed and accepts
it with ``ssl_ca_certs``; tokens guard every route but the open ones."""

from __future__ import annotations

import datetime
import ipaddress
import re
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from dynoq import Message, Queue
from dynoq.errors import RedisUnavailable
from dynoq.services.openapi import openapi_document
from dynoq.testing import free_port
from tests.faults.support import RestartableRedis, call, processes, start_server
from tests.faults.workload import SERVICES, run_workload

DOC = Path(__file__).parents[2] / "docs" / "security.md"
PASSWORD = "s3cret-for-tests"


def documented_acl(namespace: str) -> list[list[str]]:
    lines = [line for line in DOC.read_text().splitlines() if line.startswith("ACL SETUSER ")]
    return [
        line.replace("NS", namespace).replace("PASSWORD", PASSWORD).split()[1:] for line in lines
    ]


@pytest.mark.timeout(180)
def test_the_workload_runs_under_the_documented_acl(namespace, tmp_path: Path):
    with RestartableRedis() as server, processes() as running:
        admin = server.client()
        users = []
        for rule in documented_acl(namespace):
            admin.execute_command("ACL", *rule)
            users.append(rule[1])
        assert sorted(users) == sorted(f"dynoq-{s}" for s in SERVICES)
        admin.execute_command("ACL", "LOG", "RESET")

        def url_for(service: str) -> str:
            return f"redis://dynoq-{service}:{PASSWORD}@127.0.0.1:{server.port}/0"

        try:
            run_workload(url_for, namespace, running, tmp_path)
        finally:
            denied = admin.execute_command("ACL", "LOG")
            admin.close()
        assert denied == [], [(d[b"username"], d[b"object"], d[b"reason"]) for d in denied]
        # and the ACL does deny: another namespace, and an admin command
        with (
            Queue.from_url(url_for("app"), "q", namespace="other") as queue,
            pytest.raises(Exception, match=r"NOPERM|permission"),
        ):
            queue.push(Message("x", 1))


def make_certificates(directory: Path) -> dict[str, Path]:
    """A throw-away CA, a server certificate it signed for 127.0.0.1, and an unrelated CA."""
    now = datetime.datetime.now(datetime.UTC)

    def name(text: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])

    def certificate(subject: str, key, issuer: str, issuer_key, *, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(name(subject))
            .issuer_name(name(issuer))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
        return builder.sign(issuer_key, hashes.SHA256())

    paths = {}
    ca_key, other_key, server_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    ca = certificate("dynoq test CA", ca_key, "dynoq test CA", ca_key, ca=True)
    other = certificate("someone else", other_key, "someone else", other_key, ca=True)
    served = certificate("127.0.0.1", server_key, "dynoq test CA", ca_key, ca=False)
    for label, cert in (("ca", ca), ("other", other), ("server", served)):
        paths[label] = directory / f"{label}.pem"
        paths[label].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths["server_key"] = directory / "server.key"
    paths["server_key"].write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@pytest.mark.timeout(60)
def test_rediss_checks_the_certificate(namespace, tmp_path: Path):
    certs = make_certificates(tmp_path)
    tls_port = free_port()
    tls = (
        "--tls-port", str(tls_port), "--tls-cert-file", str(certs["server"]),
        "--tls-key-file", str(certs["server_key"]), "--tls-ca-cert-file", str(certs["ca"]),
        "--tls-auth-clients", "no",
    )  # fmt: skip
    with RestartableRedis(*tls):
        base = f"rediss://127.0.0.1:{tls_port}/0"
        for refused in (base, f"{base}?ssl_ca_certs={certs['other']}"):
            with (
                pytest.raises(RedisUnavailable, match="certificate"),
                Queue.from_url(refused, "tls", namespace=namespace) as queue,
            ):
                queue.push(Message("x", 1))
        with Queue.from_url(f"{base}?ssl_ca_certs={certs['ca']}", "tls", namespace=namespace) as q:
            q.push(Message("x", 1))
            assert [m.id for m in q.pop()] == ["x"]


OPEN = {"/health", "/api/health", "/api/token"}


@pytest.mark.timeout(60)
def test_tokens_guard_every_route_but_the_open_ones(redis_server, namespace):
    with processes() as running:
        base = start_server(running, redis_server.url, namespace, "--token", "t0ken")
        routes = [
            (method.upper(), path)
            for path, operations in openapi_document()["paths"].items()
            for method in operations
            if method in ("get", "post", "put", "delete")
        ]
        assert len(routes) > 50
        for method, path in routes:
            concrete = re.sub(r"\{[^}]+\}", "x", path)
            status, body = call(base, method, concrete, {})
            if path in OPEN:
                assert status != 401 or path == "/api/token", (method, path)
                continue
            assert status == 401, (method, path, status)
            assert "token" in str(body.get("message", "")), body
            status, _ = call(base, method, concrete, {}, headers={"Authorization": "Bearer nope"})
            assert status == 401
        # Conductor's SDKs trade the secret for the token without one
        secret = {"keyId": "sdk", "keySecret": "t0ken"}
        assert call(base, "POST", "/api/token", secret) == (200, {"token": "t0ken"})
        status, _ = call(base, "GET", "/v1/queues", headers={"Authorization": "Bearer t0ken"})
        assert status == 200
        status, _ = call(
            base, "GET", "/api/metadata/taskdefs", headers={"X-Authorization": "t0ken"}
        )
        assert status == 200
