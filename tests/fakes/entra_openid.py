"""Fake identity services for the Microsoft 365 Agents SDK: the Bot Framework OpenID metadata and keys
(what `login.botframework.com` serves, to validate the JWT Teams sends to `/api/messages`) and the Entra ID
v2 token endpoint (what `login.microsoftonline.com` serves, where MSAL gets the bot's own token for calls
to the Bot Connector). One TLS server on 127.0.0.1 plays both hosts: MSAL refuses `http://` authorities.

    with FakeEntra() as entra:
        entra.install(monkeypatch)                 # in-process: the SDK validates against this fake
        env = entra.environment()                  # CONNECTIONS__SERVICE_CONNECTION__SETTINGS__* and trust
        token = entra.channel_token(service_url)   # what Teams sends as `Authorization: Bearer ...`
        entra.channel_token(service_url, audience="someone-else")      # -> 401 at /api/messages
        entra.channel_token(service_url, expired=True)                 # -> 401
        entra.channel_token(service_url, signed_by="unknown-key")      # -> 401 (bad signature)

Routes (wire format as the real services):
- `GET /v1/.well-known/openidconfiguration` and `GET /v1/.well-known/keys`: Bot Framework metadata and
  JWKS (RS256 keys with `endorsements`, like Microsoft's).
- `GET /{tenant}/v2.0/.well-known/openid-configuration`, `GET /adfs/.well-known/openid-configuration`:
  Entra metadata naming `POST /{tenant}/oauth2/v2.0/token`.
- `POST /{tenant}/oauth2/v2.0/token`: client credentials (`client_id`, `client_secret`, a `/.default`
  scope). Errors as Entra writes them: AADSTS7000215 `invalid_client` (401) for a wrong secret,
  AADSTS700016 `unauthorized_client` (400) for an unknown client, AADSTS1002012 `invalid_scope` (400),
  AADSTS90002 `invalid_request` (400) for a tenant the app does not live in. Every token it issues is
  kept (`issued_tokens()`) and can be checked with `verify_access_token()` (the fake Bot Connector does).

How the SDK is pointed here (microsoft-agents 1.9; see /work/helpers/TEAMS_SDK_NOTES.md):
- JWT validation has no setting for the key URL: a token whose `iss` is `https://api.botframework.com`
  is checked against the keys at `https://login.botframework.com/v1/.well-known/keys`, looked up in the
  SDK dict `_entra_issuers.BOTFRAMEWORK_JWKS_URIS`. `install()` maps that issuer to this fake's keys.
- MSAL takes `...__SETTINGS__AUTHORITY`. For an authority host it does not know, MSAL first asks
  `login.microsoftonline.com` ("instance discovery"), unreachable offline, and on some error paths asks
  again. It never does for an ADFS-style authority, so `authority` is `https://127.0.0.1:port/adfs`:
  plain configuration, which also works for a separate `skillmatch serve` process. MSAL then reads this
  fake's metadata and posts to `/{tenant}/oauth2/v2.0/token` like with Entra.
- Trust: `REQUESTS_CA_BUNDLE` (MSAL uses requests) and `SSL_CERT_FILE` (PyJWT fetches keys with urllib)
  name this fake's throw-away CA.
"""

from __future__ import annotations

import base64
import functools
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any, Literal

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakes.http_server import FakeServer, RecordedRequest, Reply

if TYPE_CHECKING:
    import pytest

# The bot's Entra app registration (the "Microsoft App ID" of the Azure Bot) and its home tenant.
APP_ID = "8b4d0a62-2f0e-4c6b-9a1e-5b7d3c2f1a90"
CLIENT_SECRET = "fake~ClientSecret.0123456789abcdefghijklm"
TENANT_ID = "3f6b9c2e-7d41-4a8e-b5c0-1e2d3c4b5a69"

BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"  # `iss` of tokens Teams sends; also the audience
BOT_FRAMEWORK_SCOPE = "https://api.botframework.com/.default"  # of the bot's own tokens
REAL_BOT_FRAMEWORK_JWKS = "https://login.botframework.com/v1/.well-known/keys"

SETTINGS_PREFIX = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__"
TOKEN_LIFETIME = 3599  # seconds, as Entra issues client-credential tokens
SDK_LEEWAY = 300  # seconds of clock skew the SDK's validator tolerates on exp/nbf

KeyChoice = Literal["published", "unknown-key"]


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@functools.cache
def _rsa_key(role: str) -> rsa.RSAPrivateKey:
    """One key per role and process: generating 2048-bit keys costs ~0.2 s, and fakes need not differ."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class _SigningKey:
    def __init__(self, kid: str, role: str) -> None:
        self.kid = kid
        self.private = _rsa_key(role)

    def jwk(self) -> dict[str, Any]:
        numbers = self.private.public_key().public_numbers()
        return {
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "x5t": self.kid,
            "n": _b64url_uint(numbers.n),
            "e": _b64url_uint(numbers.e),
            "endorsements": ["msteams", "skype", "webchat", "emulator"],
        }


class FakeEntra(FakeServer):
    """`app_id`/`client_secret`: the one app registration the token endpoint knows; `tenant_id` its home."""

    def __init__(
        self, *, app_id: str = APP_ID, client_secret: str = CLIENT_SECRET, tenant_id: str = TENANT_ID
    ) -> None:
        super().__init__(tls=True)
        self.app_id = app_id
        self.client_secret = client_secret
        self.tenant_id = tenant_id
        self._key = _SigningKey(f"fake-{uuid.uuid4().hex[:12]}", "published")
        # Signs "bad signature" tokens: same `kid` header as the published key, different private key.
        self._impostor = _SigningKey(self._key.kid, "impostor")
        self._issued: list[str] = []
        self._issued_lock = threading.Lock()

    # -- addresses --

    @property
    def jwks_url(self) -> str:
        return f"{self.origin}/v1/.well-known/keys"

    @property
    def openid_metadata_url(self) -> str:
        return f"{self.origin}/v1/.well-known/openidconfiguration"

    @property
    def authority(self) -> str:
        """The authority for `...__SETTINGS__AUTHORITY`: MSAL skips instance discovery for `/adfs`."""
        return f"{self.origin}/adfs"

    @property
    def token_url(self) -> str:
        return f"{self.origin}/{self.tenant_id}/oauth2/v2.0/token"

    # -- pointing the SDK here --

    def environment(self, **settings: str) -> dict[str, str]:
        """Environment for an SDK host: the service connection (client id, secret, tenant, authority),
        extra `...__SETTINGS__*` from `settings` (e.g. `ANONYMOUS_ALLOWED="true"`), and CA trust."""
        env = {
            f"{SETTINGS_PREFIX}CLIENTID": self.app_id,
            f"{SETTINGS_PREFIX}CLIENTSECRET": self.client_secret,
            f"{SETTINGS_PREFIX}TENANTID": self.tenant_id,
            f"{SETTINGS_PREFIX}AUTHORITY": self.authority,
            "REQUESTS_CA_BUNDLE": self.ca_file or "",
            "SSL_CERT_FILE": self.ca_file or "",
        }
        env.update({f"{SETTINGS_PREFIX}{name.upper()}": value for name, value in settings.items()})
        return env

    def install(self, monkeypatch: pytest.MonkeyPatch, **settings: str) -> dict[str, str]:
        """Point this process's SDK here (undone with the test): the Bot Framework issuer's keys and the
        `environment()` variables (for `load_configuration_from_env(os.environ)`). Returns them."""
        from microsoft_agents.hosting.core.authorization import _entra_issuers

        monkeypatch.setitem(_entra_issuers.BOTFRAMEWORK_JWKS_URIS, BOT_FRAMEWORK_ISSUER, self.jwks_url)
        env = self.environment(**settings)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return env

    # -- tokens --

    def channel_token(
        self,
        service_url: str,
        *,
        audience: str | None = None,
        issuer: str = BOT_FRAMEWORK_ISSUER,
        expired: bool = False,
        not_yet_valid: bool = False,
        signed_by: KeyChoice = "published",
        claims: dict[str, Any] | None = None,
    ) -> str:
        """A JWT as the Bot Connector sends it with an activity: RS256, `kid`, `iss`, `aud` = app id,
        `serviceurl`, `nbf`/`exp`. `expired`/`not_yet_valid` lie beyond the SDK's 5-minute leeway."""
        now = int(time.time())
        payload: dict[str, Any] = {
            "serviceurl": service_url,
            "nbf": now - 5,
            "exp": now + 3600,
            "iss": issuer,
            "aud": self.app_id if audience is None else audience,
        }
        if expired:
            payload.update(nbf=now - 7200, exp=now - SDK_LEEWAY - 60)
        if not_yet_valid:
            payload.update(nbf=now + SDK_LEEWAY + 60, exp=now + 7200)
        payload.update(claims or {})
        return self._sign(payload, self._key if signed_by == "published" else self._impostor)

    def headers_for(self, activity: dict[str, Any], **token_options: Any) -> dict[str, str]:
        """`Authorization` for POSTing `activity` to `/api/messages`, as the Bot Connector signs it."""
        return {"Authorization": f"Bearer {self.channel_token(activity['serviceUrl'], **token_options)}"}

    def access_token(self, *, scope: str = BOT_FRAMEWORK_SCOPE, client_id: str | None = None) -> str:
        """A client-credentials access token as the token endpoint issues it (v1 format, as Entra uses for
        the Bot Framework resource). Recorded like the ones MSAL fetches."""
        now = int(time.time())
        client_id = client_id or self.app_id
        token = self._sign(
            {
                "aud": scope.removesuffix("/.default"),
                "iss": f"https://sts.windows.net/{self.tenant_id}/",
                "iat": now,
                "nbf": now,
                "exp": now + TOKEN_LIFETIME,
                "appid": client_id,
                "appidacr": "1",
                "idp": f"https://sts.windows.net/{self.tenant_id}/",
                "tid": self.tenant_id,
                "oid": str(uuid.uuid5(uuid.NAMESPACE_URL, client_id)),
                "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, client_id)),
                "ver": "1.0",
                "uti": uuid.uuid4().hex[:22],
            },
            self._key,
        )
        with self._issued_lock:
            self._issued.append(token)
        return token

    def issued_tokens(self) -> list[str]:
        with self._issued_lock:
            return list(self._issued)

    def verify_access_token(self, token: str, audience: str = BOT_FRAMEWORK_ISSUER) -> dict[str, Any]:
        """The claims of a token this fake issued for `audience`; `jwt.PyJWTError` for anything else
        (foreign signature, other audience, expired)."""
        if token not in self.issued_tokens():
            raise jwt.InvalidTokenError("not issued by this token endpoint")
        return jwt.decode(
            token, self._key.private.public_key(), algorithms=["RS256"], audience=audience, leeway=5
        )

    def _sign(self, payload: dict[str, Any], key: _SigningKey) -> str:
        return jwt.encode(payload, key.private, algorithm="RS256", headers={"kid": key.kid, "x5t": key.kid})

    # -- routing --

    def error_body(self, status: int) -> bytes:
        return Reply.json({"error": "temporarily_unavailable", "error_description": "injected fault"}).body

    def route(self, request: RecordedRequest) -> Reply:
        path = request.path
        if request.method == "GET" and path == "/v1/.well-known/openidconfiguration":
            return Reply.json(
                {
                    "issuer": BOT_FRAMEWORK_ISSUER,
                    "authorization_endpoint": "https://invalid.botframework.com",
                    "jwks_uri": self.jwks_url,
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "token_endpoint_auth_methods_supported": ["private_key_jwt"],
                }
            )
        if request.method == "GET" and path == "/v1/.well-known/keys":
            return Reply.json({"keys": [self._key.jwk()]})
        if request.method == "GET" and path.endswith("/.well-known/openid-configuration"):
            return self._tenant_metadata(path)
        if request.method == "POST" and path.endswith("/oauth2/v2.0/token"):
            return self._token(request)
        return Reply.json({"error": "not_found", "error_description": f"no route {path}"}, 404)

    def _tenant_metadata(self, path: str) -> Reply:
        tenant = path.split("/")[1]
        if tenant not in (self.tenant_id, "adfs", "common", "organizations"):
            return _aad_error(400, "invalid_tenant", 90002, f"Tenant '{tenant}' not found.")
        tenant = self.tenant_id
        return Reply.json(
            {
                "token_endpoint": f"{self.origin}/{tenant}/oauth2/v2.0/token",
                "authorization_endpoint": f"{self.origin}/{tenant}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{self.origin}/{tenant}/oauth2/v2.0/devicecode",
                "issuer": f"https://login.microsoftonline.com/{tenant}/v2.0",
                "jwks_uri": f"{self.origin}/{tenant}/discovery/v2.0/keys",
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "tenant_region_scope": "EU",
            }
        )

    def _token(self, request: RecordedRequest) -> Reply:
        tenant = request.path.split("/")[1]
        form = request.form()
        if tenant != self.tenant_id:
            return _aad_error(400, "invalid_request", 90002, f"Tenant '{tenant}' not found.")
        if form.get("grant_type") != "client_credentials":
            return _aad_error(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant.")
        if form.get("client_id") != self.app_id:
            return _aad_error(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{form.get('client_id')}' was not found in the directory.",
            )
        if form.get("client_secret") != self.client_secret:
            return _aad_error(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the "
                "client secret value, not the client secret ID.",
            )
        scope = form.get("scope", "")
        if len(scope.split()) != 1 or not scope.endswith("/.default"):
            return _aad_error(
                400,
                "invalid_scope",
                1002012,
                f"The provided value for scope {scope} is not valid. Client credential flows must have a "
                "scope value with /.default suffixed to the resource identifier.",
            )
        return Reply.json(
            {
                "token_type": "Bearer",
                "expires_in": TOKEN_LIFETIME,
                "ext_expires_in": TOKEN_LIFETIME,
                "access_token": self.access_token(scope=scope, client_id=form["client_id"]),
            }
        )


def _aad_error(status: int, error: str, code: int, description: str) -> Reply:
    trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
    return Reply.json(
        {
            "error": error,
            "error_description": f"AADSTS{code}: {description} Trace ID: {trace} "
            f"Correlation ID: {correlation} Timestamp: {time.strftime('%Y-%m-%d %H:%M:%SZ', time.gmtime())}",
            "error_codes": [code],
            "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
            "trace_id": trace,
            "correlation_id": correlation,
        },
        status,
    )
