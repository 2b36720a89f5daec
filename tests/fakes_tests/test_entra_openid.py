"""FakeEntra against the real Microsoft 365 Agents SDK: its JWT check on `/api/messages` accepts the
fake's channel tokens and refuses bad ones before anything runs; MSAL gets the bot's outgoing token from
the fake token endpoint."""

from __future__ import annotations

import logging
import os
from typing import Any

import jwt
import msal
import pytest
import requests

from tests.fakes import teams_activities as ta
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.entra_openid import (
    BOT_FRAMEWORK_ISSUER,
    BOT_FRAMEWORK_SCOPE,
    SETTINGS_PREFIX,
    FakeEntra,
)
from tests.fakes_tests.conftest import SdkHost, echo, start_host

# The SDK's JWT middleware stores the claims under a plain string request key (aiohttp prefers RequestKey).
pytestmark = pytest.mark.filterwarnings("ignore::aiohttp.web.NotAppKeyWarning")


def _message(connector: FakeBotConnector) -> dict[str, Any]:
    return ta.personal_message("who knows Kotlin?", service_url=connector.service_url)


async def test_the_sdk_accepts_a_channel_token_signed_with_the_fake_keys(
    echo_host: SdkHost, entra: FakeEntra, connector: FakeBotConnector
) -> None:
    activity = _message(connector)

    response = await echo_host.post(activity)

    assert response.status == 202
    assert [a["id"] for a in echo_host.seen] == [activity["id"]]
    assert [m["text"] for m in connector.messages()] == ["echo: who knows Kotlin?"]
    assert entra.requests_to("/v1/.well-known/keys", "GET"), "the SDK fetched the Bot Framework keys here"


@pytest.mark.parametrize(
    ("case", "token"),
    [
        ("another bot's audience", {"audience": "00000000-0000-0000-0000-000000000001"}),
        ("the Bot Framework as audience", {"audience": BOT_FRAMEWORK_ISSUER}),
        ("expired beyond the 5-minute leeway", {"expired": True}),
        ("not valid yet", {"not_yet_valid": True}),
        ("signed with a key that is not published", {"signed_by": "unknown-key"}),
    ],
)
async def test_a_bad_channel_token_is_refused_with_401_and_nothing_runs(
    echo_host: SdkHost, connector: FakeBotConnector, case: str, token: dict[str, Any]
) -> None:
    response = await echo_host.post(_message(connector), **token)

    assert response.status == 401, case
    assert await response.json() == {"error": "Invalid token or authentication failed."}
    assert echo_host.seen == []
    assert connector.requests == []


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer not.a.jwt"},
    ],
    ids=["no header", "basic auth", "empty bearer", "garbage"],
)
async def test_a_missing_or_malformed_authorization_header_is_refused_with_401(
    echo_host: SdkHost, connector: FakeBotConnector, headers: dict[str, str]
) -> None:
    response = await echo_host.post(_message(connector), headers=headers)

    assert response.status == 401
    assert echo_host.seen == []
    assert connector.requests == []


async def test_a_token_for_one_conversation_cannot_be_replayed_after_it_expired(
    echo_host: SdkHost, entra: FakeEntra, connector: FakeBotConnector
) -> None:
    activity = _message(connector)
    stale = {"Authorization": f"Bearer {entra.channel_token(connector.service_url, expired=True)}"}
    fresh = entra.headers_for(activity)

    assert (await echo_host.post(activity, headers=stale)).status == 401
    assert (await echo_host.post(activity, headers=fresh)).status == 202


async def test_outgoing_calls_carry_a_token_from_the_fake_token_endpoint_fetched_once(
    echo_host: SdkHost, entra: FakeEntra, connector: FakeBotConnector
) -> None:
    for text in ("first", "second"):
        assert (
            await echo_host.post(ta.personal_message(text, service_url=connector.service_url))
        ).status == 202

    token_requests = entra.requests_to("/oauth2/v2.0/token", "POST")
    assert len(token_requests) == 1, "MSAL caches the token between turns"
    form = token_requests[0].form()
    assert form["grant_type"] == "client_credentials"
    assert (form["client_id"], form["client_secret"]) == (entra.app_id, entra.client_secret)
    assert form["scope"] == BOT_FRAMEWORK_SCOPE
    bearer = {r.header("authorization") for r in connector.requests}
    assert bearer == {f"Bearer {entra.issued_tokens()[0]}"}
    assert entra.verify_access_token(entra.issued_tokens()[0])["appid"] == entra.app_id


async def test_a_wrong_client_secret_is_refused_by_the_token_endpoint_and_nothing_is_sent(
    entra: FakeEntra,
    connector: FakeBotConnector,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv(f"{SETTINGS_PREFIX}CLIENTSECRET", "an-old-rotated-secret-value")
    host = await start_host(echo, entra)
    try:
        with caplog.at_level(logging.DEBUG):
            response = await host.post(_message(connector))
    finally:
        await host.http.close()

    assert response.status == 500  # the SDK raises while creating the connector client
    assert len(entra.requests_to("/oauth2/v2.0/token", "POST")) == 1
    assert {r.path for r in entra.requests} <= {
        "/v1/.well-known/keys",
        "/adfs/.well-known/openid-configuration",
        f"/{entra.tenant_id}/oauth2/v2.0/token",
    }
    assert connector.requests == []
    assert "AADSTS7000215" in caplog.text
    assert "an-old-rotated-secret-value" not in caplog.text
    assert entra.client_secret not in caplog.text


def test_the_token_endpoint_answers_like_entra_for_bad_client_credentials(entra: FakeEntra) -> None:
    def token(**form: str) -> requests.Response:
        base = {
            "grant_type": "client_credentials",
            "client_id": entra.app_id,
            "client_secret": entra.client_secret,
            "scope": BOT_FRAMEWORK_SCOPE,
        }
        return requests.post(entra.token_url, data={**base, **form}, verify=entra.ca_file, timeout=5)

    ok = token()
    assert ok.status_code == 200
    assert ok.json()["token_type"] == "Bearer"
    assert ok.json()["expires_in"] == 3599

    cases = {
        "client_secret": ("wrong", 401, "invalid_client", 7000215),
        "client_id": ("11111111-2222-3333-4444-555555555555", 400, "unauthorized_client", 700016),
        "scope": ("https://api.botframework.com", 400, "invalid_scope", 1002012),
        "grant_type": ("password", 400, "unsupported_grant_type", 70003),
    }
    for field_name, (value, status, error, code) in cases.items():
        reply = token(**{field_name: value})
        assert (reply.status_code, reply.json()["error"], reply.json()["error_codes"]) == (
            status,
            error,
            [code],
        )
        assert reply.json()["error_description"].startswith(f"AADSTS{code}:")


def test_access_tokens_verify_only_when_issued_by_this_fake_for_the_bot_framework(entra: FakeEntra) -> None:
    issued = entra.access_token()
    assert entra.verify_access_token(issued)["aud"] == BOT_FRAMEWORK_ISSUER

    forged = jwt.encode(
        {"aud": BOT_FRAMEWORK_ISSUER}, "not-the-key-but-long-enough-for-hs256!", algorithm="HS256"
    )
    with pytest.raises(jwt.InvalidTokenError):
        entra.verify_access_token(forged)
    with pytest.raises(jwt.InvalidAudienceError):
        entra.verify_access_token(entra.access_token(scope="https://graph.microsoft.com/.default"))


def test_msal_gets_a_token_from_the_environment_alone_without_instance_discovery(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A separate `skillmatch serve` process cannot be monkeypatched: environment() alone must do."""
    with FakeEntra() as entra:
        env = entra.environment()
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", env["REQUESTS_CA_BUNDLE"])

        def app(secret: str) -> msal.ConfidentialClientApplication:
            return msal.ConfidentialClientApplication(
                env[f"{SETTINGS_PREFIX}CLIENTID"],
                authority=env[f"{SETTINGS_PREFIX}AUTHORITY"],
                client_credential=secret,
            )

        result = app(env[f"{SETTINGS_PREFIX}CLIENTSECRET"]).acquire_token_for_client(
            scopes=[BOT_FRAMEWORK_SCOPE]
        )
        refused = app("wrong").acquire_token_for_client(scopes=[BOT_FRAMEWORK_SCOPE])

        assert result["access_token"] in entra.issued_tokens()
        assert refused["error"] == "invalid_client"
        # Metadata and tokens only: no instance discovery, not even on the error path.
        assert {r.path for r in entra.requests} == {
            "/adfs/.well-known/openid-configuration",
            f"/{entra.tenant_id}/oauth2/v2.0/token",
        }


async def test_anonymous_mode_accepts_requests_without_a_token_but_still_rejects_bad_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in list(os.environ):
        if name.startswith("CONNECTIONS__"):
            monkeypatch.delenv(name)
    monkeypatch.setenv(f"{SETTINGS_PREFIX}ANONYMOUS_ALLOWED", "true")
    with FakeBotConnector(None) as connector:
        host = await start_host(echo, None)
        try:
            anonymous = await host.post(_message(connector), headers={})
            garbage = await host.post(_message(connector), headers={"Authorization": "Bearer not.a.jwt"})
        finally:
            await host.http.close()

        assert (anonymous.status, garbage.status) == (202, 401)
        assert [m["text"] for m in connector.messages()] == ["echo: who knows Kotlin?"]
        assert [r.header("authorization") for r in connector.requests] == [None]


def test_channel_tokens_look_like_the_bot_connector_s(entra: FakeEntra) -> None:
    token = entra.channel_token("https://smba.trafficmanager.net/emea/")
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})

    assert header["alg"] == "RS256"
    assert header["kid"] in {
        k["kid"] for k in requests.get(entra.jwks_url, verify=entra.ca_file, timeout=5).json()["keys"]
    }
    assert claims["iss"] == BOT_FRAMEWORK_ISSUER
    assert claims["aud"] == entra.app_id
    assert claims["serviceurl"] == "https://smba.trafficmanager.net/emea/"
    assert claims["nbf"] < claims["exp"]
    metadata = requests.get(entra.openid_metadata_url, verify=entra.ca_file, timeout=5).json()
    assert (metadata["issuer"], metadata["jwks_uri"]) == (BOT_FRAMEWORK_ISSUER, entra.jwks_url)
