"""OpenID Connect bearer tokens against a real server and a real JWKS endpoint on 127.0.0.1,
signed with keys this test generates: good tokens pass with their groups, every kind of bad one
is refused with a precise reason, and a rotated key is fetched."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from tests.conftest import Server

ISSUER = "https://login.example.test/realms/acme"
AUDIENCE = "semcat"


class Issuer:
    """Keys and a JWKS endpoint, as an identity provider would publish them."""

    def __init__(self) -> None:
        self.keys: dict[str, Any] = {}
        self.published: list[dict[str, Any]] = []
        self.fetches = 0
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                issuer.fetches += 1
                body = json.dumps({"keys": issuer.published}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/jwks.json"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def add_rsa(self, kid: str, *, publish: bool = True) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.keys[kid] = key
        if publish:
            jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
            self.published.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})

    def add_ec(self, kid: str) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        self.keys[kid] = key
        jwk = json.loads(ECAlgorithm.to_jwk(key.public_key()))
        self.published.append({**jwk, "kid": kid, "use": "sig", "alg": "ES256"})

    def token(self, kid: str = "k1", *, alg: str = "RS256", signer: str | None = None,
              **claims: Any) -> str:
        now = int(time.time())
        payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": "u-123", "email": "alice@acme.test",
                   "groups": ["data-eng", "finance"], "iat": now, "exp": now + 300, **claims}
        payload = {k: v for k, v in payload.items() if v is not None}
        return jwt.encode(payload, self.keys[signer or kid], algorithm=alg,
                          headers={"kid": kid})

    def public_pem(self, kid: str) -> bytes:
        return bytes(self.keys[kid].public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], payload: dict[str, Any], key: bytes = b"") -> str:
    """A token built by hand, for what PyJWT refuses to make: alg none, HMAC with a PEM."""
    head = b64(json.dumps(header).encode()) + "." + b64(json.dumps(payload).encode())
    if not key:
        return head + "."
    return head + "." + b64(hmac.new(key, head.encode(), hashlib.sha256).digest())


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    iss = Issuer()
    iss.add_rsa("k1")
    iss.add_ec("e1")
    iss.add_rsa("other", publish=False)
    yield iss
    iss.http.shutdown()


@pytest.fixture(scope="module")
def oidc_server(tmp_path_factory: pytest.TempPathFactory, issuer: Issuer) -> Iterator[Server]:
    data: Path = tmp_path_factory.mktemp("oidc")
    srv = Server(data, env={"SEMCAT_OPEN": "0", "SEMCAT_OIDC_ISSUER": ISSUER,
                            "SEMCAT_OIDC_AUDIENCE": AUDIENCE,
                            "SEMCAT_OIDC_JWKS_URL": issuer.url}).start()
    yield srv
    srv.stop()


def me(server: Server, token: str) -> httpx.Response:
    return httpx.get(server.url + "/api/v1/me", headers={"Authorization": f"Bearer {token}"},
                     timeout=30)


def refused(r: httpx.Response) -> str:
    assert r.status_code == 401, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["www-authenticate"].startswith('Bearer realm="semcat", error="invalid_token"')
    return str(r.json()["detail"])


def test_a_valid_token_authenticates_with_its_groups(oidc_server: Server, issuer: Issuer) -> None:
    r = me(oidc_server, issuer.token())
    assert r.status_code == 200, r.text
    assert r.json() == {"subject": "alice@acme.test", "via": "oidc", "admin": False,
                        "groups": ["data-eng", "finance"], "grants": [], "keyId": None,
                        "delegated": False}
    assert httpx.get(oidc_server.url + "/api/v1/assets", timeout=30, headers={
        "Authorization": f"Bearer {issuer.token()}"}).status_code == 200


def test_es256_and_the_sub_fallback(oidc_server: Server, issuer: Issuer) -> None:
    r = me(oidc_server, issuer.token("e1", alg="ES256", email=None, groups=None))
    assert r.status_code == 200, r.text
    assert r.json()["subject"] == "u-123" and r.json()["groups"] == []


def test_expired_token(oidc_server: Server, issuer: Issuer) -> None:
    now = int(time.time())
    assert refused(me(oidc_server, issuer.token(iat=now - 900, exp=now - 300))) == "token expired"


def test_token_not_yet_valid(oidc_server: Server, issuer: Issuer) -> None:
    detail = refused(me(oidc_server, issuer.token(nbf=int(time.time()) + 600)))
    assert detail.startswith("token not yet valid")


def test_wrong_audience(oidc_server: Server, issuer: Issuer) -> None:
    detail = refused(me(oidc_server, issuer.token(aud="another-app")))
    assert detail == "audience mismatch: expected 'semcat'"


def test_wrong_issuer(oidc_server: Server, issuer: Issuer) -> None:
    detail = refused(me(oidc_server, issuer.token(iss="https://evil.example.test")))
    assert detail == f"issuer mismatch: expected '{ISSUER}'"


def test_missing_expiry(oidc_server: Server, issuer: Issuer) -> None:
    assert "'exp'" in refused(me(oidc_server, issuer.token(exp=None)))


def test_forged_signature(oidc_server: Server, issuer: Issuer) -> None:
    """Signed by a key the issuer never published, under the published key's kid."""
    detail = refused(me(oidc_server, issuer.token("k1", signer="other")))
    assert detail.startswith("signature verification failed")


def test_alg_none(oidc_server: Server, issuer: Issuer) -> None:
    claims = jwt.decode(issuer.token(), options={"verify_signature": False})
    detail = refused(me(oidc_server, unsigned({"alg": "none", "typ": "JWT", "kid": "k1"}, claims)))
    assert detail.startswith("token algorithm 'none' is not accepted")


def test_hs256_with_the_public_key_as_secret(oidc_server: Server, issuer: Issuer) -> None:
    claims = jwt.decode(issuer.token(), options={"verify_signature": False})
    token = unsigned({"alg": "HS256", "typ": "JWT", "kid": "k1"}, claims, issuer.public_pem("k1"))
    assert refused(me(oidc_server, token)).startswith("token algorithm 'HS256' is not accepted")


def test_garbage_token(oidc_server: Server) -> None:
    assert refused(me(oidc_server, "not.a.jwt")).startswith("malformed token")


def test_key_rotation_fetches_the_new_key(oidc_server: Server, issuer: Issuer) -> None:
    assert me(oidc_server, issuer.token()).status_code == 200
    issuer.add_rsa("k2", publish=False)
    before = issuer.fetches
    time.sleep(1.2)  # the verifier refetches for an unknown kid at most once a second
    assert "unknown signing key 'k2'" in refused(me(oidc_server, issuer.token("k2")))
    assert issuer.fetches == before + 1  # the unknown kid refetched the JWKS once
    issuer.published.append({**json.loads(RSAAlgorithm.to_jwk(issuer.keys["k2"].public_key())),
                             "kid": "k2", "use": "sig", "alg": "RS256"})
    time.sleep(1.2)
    r = me(oidc_server, issuer.token("k2"))
    assert r.status_code == 200, r.text
    assert issuer.fetches == before + 2
    assert me(oidc_server, issuer.token("k2")).status_code == 200
    assert issuer.fetches == before + 2  # known now: served from the cache
