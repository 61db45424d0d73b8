"""Orgbase as an OpenID Connect provider, driven by an independent client library
(Authlib, from PyPI) and the real browser (issue 11, ADR 0025).

The client is Authlib's OAuth2Session: it builds the authorization request (with PKCE
S256 and a nonce), exchanges the code, refreshes and revokes; Authlib's JOSE code
checks the ID token's signature against the published key set. Chromium signs in and
consents on Orgbase's own pages. The platform's redirect URI is on a host that does not
exist: Playwright answers its requests itself and hands the URL to the test.
"""

import json
import os
import re
import secrets
import subprocess
import urllib.request

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.integrations.base_client.errors import OAuthError as OAuth2Error
from playwright.sync_api import expect

from conftest import ADMIN_EMAIL, ADMIN_PASSWORD, MASTER_KEY, ROOT

CALLBACK = "https://platform.example/oauth/callback"
BYE = "https://platform.example/bye"


def api(server, method, path, token=None, body=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    r = requests.request(method, server.base + path, headers=headers, data=json.dumps(body) if body is not None else None, timeout=10)
    return r.status_code, (r.json() if r.content else None)


@pytest.fixture(scope="module")
def provider(server):
    with urllib.request.urlopen(server.base + "/.well-known/openid-configuration", timeout=5) as r:
        return json.load(r)


@pytest.fixture(scope="module")
def member(server):
    """A person with an org of their own (open sign-up), and a platform-wide client."""
    email = f"oidc-{secrets.token_hex(4)}@example.com"
    st, body = api(server, "POST", "/api/v1/auth/signup", body={"email": email, "password": "oidc-password-1", "name": "Olga Oidc"})
    assert st in (200, 201), body
    st, admin = api(server, "POST", "/api/v1/auth/login", body={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert st == 200, admin
    st, client = api(server, "POST", "/api/v1/oidc/clients", admin["token"], {
        "name": "Platform", "redirect_uris": [CALLBACK], "post_logout_redirect_uris": [BYE],
        "groups": "roles", "admin_role": True})
    assert st == 201, client
    return {"email": email, "password": "oidc-password-1", "client": client}


def capture_callbacks(page):
    """Answers every request to the platform's host, and keeps its URLs."""
    seen = []

    def answer(route):
        seen.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>platform</title><p>back at the platform</p>")

    page.route(re.compile(r"^https://platform\.example/.*"), answer)
    return seen


def sign_in_through_orgbase(page, provider, member, scope="openid email profile organization offline_access"):
    """Authlib makes the request; Chromium signs in and consents; returns the session,
    the callback URL and the PKCE verifier."""
    c = member["client"]
    session = OAuth2Session(c["client_id"], c["client_secret"], scope=scope, redirect_uri=CALLBACK,
                            code_challenge_method="S256", token_endpoint_auth_method="client_secret_basic")
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    url, state = session.create_authorization_url(provider["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
    seen = capture_callbacks(page)
    consent = page.get_by_role("heading", name="Sign in to Platform")

    def settle():
        """Until the browser is back at the platform, or on an Orgbase page."""
        for _ in range(100):
            if seen:
                return
            page.wait_for_timeout(100)
            if page.url.startswith("http://127.0.0.1") and page.locator("main").count():
                if "/sign-in" in page.url or consent.count():
                    return

    # Signed in and agreed before: straight back, a redirect Playwright's routes do not
    # see; asked with the browser's own cookies instead.
    r = page.context.request.get(url, max_redirects=0)
    if r.status == 303 and r.headers.get("location", "").startswith("https://platform.example/"):
        return session, r.headers["location"], verifier, nonce, state
    page.goto(url)
    settle()
    if not seen and "/sign-in" in page.url:
        page.get_by_label("E-mail").fill(member["email"])
        page.get_by_label("Password").fill(member["password"])
        page.get_by_role("button", name="Sign in", exact=True).click()
        settle()
    if not seen:
        expect(consent).to_be_visible()
        page.get_by_role("button", name="Allow", exact=True).click()
        settle()
    assert seen, f"no redirect to the platform; at {page.url}"
    return session, seen[-1], verifier, nonce, state


def verify_id_token(provider, id_token, client_id, nonce):
    with urllib.request.urlopen(provider["jwks_uri"], timeout=5) as r:
        keys = JsonWebKey.import_key_set(json.load(r))
    claims = jwt.decode(id_token, keys, claims_options={
        "iss": {"essential": True, "value": provider["issuer"]},
        "aud": {"essential": True, "value": client_id},
        "nonce": {"essential": True, "value": nonce},
    })
    claims.validate()
    return claims


def test_discovery_names_what_clients_need(provider, server):
    assert provider["issuer"] == server.base
    for key in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "end_session_endpoint", "revocation_endpoint"):
        assert provider[key].startswith(server.base + "/"), key
    assert provider["code_challenge_methods_supported"] == ["S256"]
    assert "RS256" in provider["id_token_signing_alg_values_supported"]


def test_code_flow_with_pkce_tokens_userinfo_refresh_and_revocation(page, provider, member):
    session, callback, verifier, nonce, state = sign_in_through_orgbase(page, provider, member)
    assert f"state={state}" in callback
    assert "iss=" in callback
    token = session.fetch_token(provider["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    claims = verify_id_token(provider, token["id_token"], member["client"]["client_id"], nonce)
    assert claims["email"] == member["email"]
    assert claims["name"] == "Olga Oidc"
    assert claims["roles"] == ["user", "admin"], "the owner of an org, with admin_role"
    assert len(claims["groups"]) == 2 and claims["groups"][1].endswith(":owner"), claims["groups"]
    assert list(claims["organization"].values())[0]["role"] == "owner"

    info = session.get(provider["userinfo_endpoint"]).json()
    assert info["sub"] == claims["sub"] and info["email"] == member["email"]

    # Refresh: new tokens; the spent refresh token, presented again, ends the family.
    old_refresh = token["refresh_token"]
    fresh = session.refresh_token(provider["token_endpoint"], refresh_token=old_refresh)
    assert fresh["refresh_token"] != old_refresh
    with pytest.raises(OAuth2Error) as e:
        session.refresh_token(provider["token_endpoint"], refresh_token=old_refresh)
    assert e.value.error == "invalid_grant"
    with pytest.raises(OAuth2Error):
        session.refresh_token(provider["token_endpoint"], refresh_token=fresh["refresh_token"])

    # The code again: refused (and what it gave is revoked).
    with pytest.raises(OAuth2Error) as e:
        session.fetch_token(provider["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    assert e.value.error == "invalid_grant"

    # Another sign-in (consent remembered: straight back), then revocation.
    session, callback, verifier, nonce, _ = sign_in_through_orgbase(page, provider, member)
    token = session.fetch_token(provider["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    r = session.revoke_token(provider["revocation_endpoint"], token=token["refresh_token"], token_type_hint="refresh_token")
    assert r.status_code == 200
    r = requests.get(provider["userinfo_endpoint"], headers={"Authorization": f"Bearer {token['access_token']}"}, timeout=5)
    assert r.status_code == 401 and "invalid_token" in r.headers["WWW-Authenticate"]


def test_refusals_of_the_token_endpoint(page, provider, member):
    session, callback, verifier, _, _ = sign_in_through_orgbase(page, provider, member)
    c = member["client"]
    wrong = OAuth2Session(c["client_id"], "obc_wrong", redirect_uri=CALLBACK)
    with pytest.raises(OAuth2Error) as e:
        wrong.fetch_token(provider["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    assert e.value.error == "invalid_client"
    with pytest.raises(OAuth2Error) as e:
        session.fetch_token(provider["token_endpoint"], authorization_response=callback, code_verifier="x" * 50)
    assert e.value.error == "invalid_grant"
    other = OAuth2Session(c["client_id"], c["client_secret"], redirect_uri=CALLBACK + "/other")
    with pytest.raises(OAuth2Error) as e:
        other.fetch_token(provider["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    assert e.value.error == "invalid_grant"
    # Refused exchanges left the code alone: the right one still works.
    token = session.fetch_token(provider["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    assert token["token_type"].lower() == "bearer"


def test_an_unregistered_redirect_uri_is_never_followed(page, provider, member):
    c = member["client"]
    seen = capture_callbacks(page)
    page.goto(provider["authorization_endpoint"] + "?response_type=code&scope=openid&client_id="
              + c["client_id"] + "&redirect_uri=https%3A%2F%2Fplatform.example%2Fevil")
    assert not seen
    expect(page.get_by_role("alert")).to_contain_text("is not a redirect URI of Platform")


def test_logout_returns_to_the_platform(page, provider, member):
    session, callback, verifier, nonce, _ = sign_in_through_orgbase(page, provider, member, scope="openid")
    token = session.fetch_token(provider["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    # The browser's own cookies, without following the redirect off the server
    # (Playwright's routes do not see redirected requests).
    r = page.context.request.get(provider["end_session_endpoint"] + "?id_token_hint=" + token["id_token"]
                                 + "&post_logout_redirect_uri=" + requests.utils.quote(BYE, safe="") + "&state=bye-1",
                                 max_redirects=0)
    assert r.status == 303, r.text()
    assert r.headers["location"] == BYE + "?state=bye-1"
    page.goto("/account")
    expect(page).to_have_url(re.compile(r"/sign-in"))


def test_key_rotation_keeps_earlier_tokens_verifiable(page, provider, member, server):
    """`orgbase oidc rotate-keys` beside the running server: the key set gains the new
    keys and keeps the previous ones, so an ID token signed before verifies, and the next
    one is signed with a new key."""
    session, callback, verifier, nonce, _ = sign_in_through_orgbase(page, provider, member, scope="openid")
    before = session.fetch_token(provider["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    binary = os.environ.get("ORGBASE_BIN", str(ROOT / "target" / "debug" / "orgbase"))
    run = subprocess.run([binary, "oidc", "rotate-keys", "--database-url", server.url],
                         env=dict(os.environ, ORGBASE_MASTER_KEY=MASTER_KEY), capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.count("new signing key") == 2, run.stdout
    with urllib.request.urlopen(provider["jwks_uri"], timeout=5) as r:
        keys = json.load(r)["keys"]
    assert len(keys) == 4, keys
    verify_id_token(provider, before["id_token"], member["client"]["client_id"], nonce)
    session, callback, verifier, nonce, _ = sign_in_through_orgbase(page, provider, member, scope="openid")
    after = session.fetch_token(provider["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    verify_id_token(provider, after["id_token"], member["client"]["client_id"], nonce)
    kid = lambda t: json.loads(__import__("base64").urlsafe_b64decode(t.split(".")[0] + "==="))["kid"]
    assert kid(after["id_token"]) != kid(before["id_token"])
    assert any(k["kid"] == kid(after["id_token"]) for k in keys)
