"""OpenID Connect bearer tokens: JWTs signed by the configured issuer's keys (its JWKS).

Only asymmetric algorithms are accepted (RS256, ES256), and the algorithm is checked against
that list before any key is looked up, so ``alg: none`` and HS256-with-the-public-key tokens
are refused by construction. An unknown ``kid`` refetches the JWKS once (key rotation), at most
once per ``refresh_cooldown_s``.
"""

from __future__ import annotations

from typing import Any, Protocol

import jwt
from jwt import PyJWKClient

from access.identity import Principal
from graph_store.errors import Unauthenticated

ALGORITHMS = ("RS256", "ES256")


class OidcSettings(Protocol):
    """The part of catalog.Settings that configures OpenID Connect."""

    oidc_issuer: str | None
    oidc_audience: str | None
    oidc_jwks_url: str | None
    oidc_user_claim: str
    oidc_groups_claim: str


class OidcVerifier:
    def __init__(self, *, issuer: str, audience: str, jwks_url: str, user_claim: str = "email",
                 groups_claim: str = "groups", leeway_s: float = 30,
                 refresh_cooldown_s: float = 1.0) -> None:
        self.issuer = issuer
        self.audience = audience
        self.user_claim = user_claim
        self.groups_claim = groups_claim
        self.leeway_s = leeway_s
        self.jwks = PyJWKClient(jwks_url, cache_jwk_set=True, lifespan=300, timeout=10,
                                cooldown_duration=refresh_cooldown_s)

    @classmethod
    def from_settings(cls, settings: OidcSettings) -> OidcVerifier | None:
        """None when OIDC is not configured (``Settings`` refuses half a configuration)."""
        s = settings
        if not (s.oidc_issuer and s.oidc_audience and s.oidc_jwks_url):
            return None
        return cls(issuer=s.oidc_issuer, audience=s.oidc_audience, jwks_url=s.oidc_jwks_url,
                   user_claim=s.oidc_user_claim, groups_claim=s.oidc_groups_claim)

    def verify(self, token: str) -> Principal:
        """The principal a token authenticates; raises Unauthenticated with a precise reason."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as e:
            raise Unauthenticated(f"malformed token: {e}") from e
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise Unauthenticated(f"token algorithm {alg!r} is not accepted; the issuer must "
                                  f"sign with {' or '.join(ALGORITHMS)}")
        kid = header.get("kid")
        if not kid:
            raise Unauthenticated("token has no key id (kid) in its header")
        try:
            key = self.jwks.get_signing_key(kid)
        except jwt.PyJWKClientConnectionError as e:
            raise Unauthenticated(f"could not fetch the issuer's keys (JWKS): {e}") from e
        except jwt.PyJWKClientError as e:
            raise Unauthenticated(f"unknown signing key {kid!r}: not in the issuer's JWKS") from e
        claims = self._decode(token, key, alg)
        subject = claims.get(self.user_claim) or claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise Unauthenticated(f"token has neither a {self.user_claim!r} nor a 'sub' claim")
        groups = claims.get(self.groups_claim) or []
        if isinstance(groups, str):
            groups = [groups]
        return Principal(subject, "oidc", groups=frozenset(str(g) for g in groups))

    def _decode(self, token: str, key: Any, alg: str) -> dict[str, Any]:
        try:
            return jwt.decode(token, key, algorithms=[alg], audience=self.audience,
                              issuer=self.issuer, leeway=self.leeway_s,
                              options={"require": ["exp", "iss", "aud"]})
        except jwt.ExpiredSignatureError as e:
            raise Unauthenticated("token expired") from e
        except jwt.ImmatureSignatureError as e:
            raise Unauthenticated("token not yet valid (nbf or iat is in the future)") from e
        except jwt.InvalidAudienceError as e:
            raise Unauthenticated(f"audience mismatch: expected {self.audience!r}") from e
        except jwt.InvalidIssuerError as e:
            raise Unauthenticated(f"issuer mismatch: expected {self.issuer!r}") from e
        except jwt.MissingRequiredClaimError as e:
            raise Unauthenticated(f"token lacks the required {e.claim!r} claim") from e
        except jwt.InvalidSignatureError as e:
            raise Unauthenticated("signature verification failed: the token was not signed "
                                  "by the issuer's key") from e
        except jwt.InvalidAlgorithmError as e:
            raise Unauthenticated(f"algorithm {alg} does not fit the signing key: {e}") from e
        except jwt.InvalidTokenError as e:
            raise Unauthenticated(f"invalid token: {e}") from e
