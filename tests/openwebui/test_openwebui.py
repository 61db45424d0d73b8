"""Open WebUI (from PyPI) signing its users in through Orgbase, in headless Chromium:
a member lands in Open WebUI with the groups Orgbase gave, an org admin becomes an Open
WebUI admin only because the client maps it, and a removed member loses the group at
the next sign-in (issue 11). Run with scripts/openwebui (on demand)."""

import json
import os
import socket
import subprocess
import time
import urllib.request

import pytest
import requests
from playwright.sync_api import sync_playwright

ROOT_EMAIL, ROOT_PASSWORD, PASSWORD = "root@example.com", "root-password-1", "password-123"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(url, proc, log, seconds=90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, open(log).read()[-3000:]
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} not ready: {open(log).read()[-3000:]}")


class Orgbase:
    def __init__(self, base):
        self.base = base
        self.root = self.login(ROOT_EMAIL, ROOT_PASSWORD)

    def call(self, method, path, body=None, token=None):
        h = {"Authorization": f"Bearer {token or self.root}"}
        r = requests.request(method, self.base + path, json=body, headers=h, timeout=10)
        return r.status_code, (r.json() if r.content else None)

    def login(self, email, password):
        r = requests.post(self.base + "/api/v1/auth/login", json={"email": email, "password": password}, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()["token"]

    def signup(self, email, name):
        r = requests.post(self.base + "/api/v1/auth/signup", json={"email": email, "password": PASSWORD, "name": name}, timeout=10)
        assert r.status_code == 201, r.text
        return r.json()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    work = tmp_path_factory.mktemp("openwebui")
    ob_port, ow_port = free_port(), free_port()
    ob_base, ow_base = f"http://127.0.0.1:{ob_port}", f"http://127.0.0.1:{ow_port}"
    procs = []
    ob_log = work / "orgbase.log"
    procs.append(subprocess.Popen(
        [os.environ["ORGBASE_BIN"], "serve", "--bind", f"127.0.0.1:{ob_port}", "--database-url", f"sqlite://{work}/orgbase.db"],
        env=dict(os.environ, ORGBASE_ADMIN_EMAIL=ROOT_EMAIL, ORGBASE_ADMIN_PASSWORD=ROOT_PASSWORD, ORGBASE_SIGNUP_MODE="open",
                 ORGBASE_ARGON2_MEMORY_KIB="1024", ORGBASE_ARGON2_ITERATIONS="1", ORGBASE_RATE_LIMITS="off",
                 ORGBASE_PUBLIC_URL=ob_base, ORGBASE_MASTER_KEY="00" * 32, RUST_LOG="warn"),
        stdout=open(ob_log, "w"), stderr=subprocess.STDOUT))
    wait(ob_base + "/readyz", procs[0], ob_log)
    ob = Orgbase(ob_base)
    # Ada owns "acme"; Max is a viewer there (and owns an org of his own, as every
    # sign-up does); the client sees only acme at first.
    ada, mx = ob.signup("ada@acme.test", "Acme"), ob.signup("max@acme.test", "Max")
    st, orgs = ob.call("GET", "/api/v1/orgs", token=ada["token"])
    acme = orgs["items"][0]
    st, _ = ob.call("POST", f"/api/v1/orgs/{acme['id']}/members", {"user_id": mx["user"]["id"], "role": "viewer"})
    assert st == 201
    st, client = ob.call("POST", "/api/v1/oidc/clients", {
        "name": "Open WebUI", "redirect_uris": [f"{ow_base}/oauth/oidc/callback"], "first_party": True,
        "groups": "roles", "admin_role": True, "allowed_orgs": [acme["slug"]]})
    assert st == 201, client
    ow_log = work / "openwebui.log"
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", OFFLINE_MODE="true",
               RAG_EMBEDDING_MODEL_AUTO_UPDATE="false", RAG_RERANKING_MODEL_AUTO_UPDATE="false",
               WHISPER_MODEL_AUTO_UPDATE="false", RAG_EMBEDDING_ENGINE="openai", ENABLE_OLLAMA_API="false",
               ENABLE_OPENAI_API="false", WEBUI_AUTH="true", ANONYMIZED_TELEMETRY="false",
               DATA_DIR=str(work / "data"), WEBUI_SECRET_KEY="test-secret", WEBUI_URL=ow_base,
               ENABLE_OAUTH_SIGNUP="true", OAUTH_CLIENT_ID=client["client_id"], OAUTH_CLIENT_SECRET=client["client_secret"],
               OPENID_PROVIDER_URL=f"{ob_base}/.well-known/openid-configuration", OAUTH_PROVIDER_NAME="Orgbase",
               OAUTH_SCOPES="openid email profile", OAUTH_CODE_CHALLENGE_METHOD="S256",
               ENABLE_OAUTH_GROUP_MANAGEMENT="true", ENABLE_OAUTH_GROUP_CREATION="true", OAUTH_GROUP_CLAIM="groups",
               ENABLE_OAUTH_ROLE_MANAGEMENT="true", OAUTH_ROLES_CLAIM="roles", OAUTH_ALLOWED_ROLES="user,admin",
               OAUTH_ADMIN_ROLES="admin")
    (work / "data").mkdir()
    procs.append(subprocess.Popen([os.environ["OPENWEBUI_BIN"], "serve", "--host", "127.0.0.1", "--port", str(ow_port)],
                                  env=env, stdout=open(ow_log, "w"), stderr=subprocess.STDOUT))
    wait(ow_base + "/health", procs[1], ow_log, seconds=180)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=os.environ.get("ORGBASE_CHROMIUM", "/usr/bin/chromium"), headless=True)
        yield {"ob": ob, "ow": ow_base, "acme": acme, "client": client, "ada": ada, "max": mx, "browser": browser}
        browser.close()
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=20)


def sign_in(world, email):
    """Open WebUI's "sign in with Orgbase", in a fresh browser: its token cookie."""
    ctx = world["browser"].new_context()
    page = ctx.new_page()
    page.set_default_timeout(30000)
    page.goto(world["ow"] + "/oauth/oidc/login")
    if "/sign-in" in page.url:
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(lambda u: u.startswith(world["ow"]) and "/oauth/" not in u)
    page.wait_for_timeout(1000)
    token = next((c["value"] for c in ctx.cookies() if c["name"] == "token"), None)
    ctx.close()
    assert token, f"no Open WebUI session for {email}"
    return token


def ow(world, path, token):
    r = requests.get(world["ow"] + path, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def members_of_groups(world, admin_token):
    return {g["name"]: g["member_count"] for g in ow(world, "/api/v1/groups/", admin_token)}


def test_members_land_with_orgbase_groups_and_roles(world):
    slug = world["acme"]["slug"]
    # The org's owner first (Open WebUI makes its first user an admin anyway).
    ada = sign_in(world, "ada@acme.test")
    me = ow(world, "/api/v1/auths/", ada)
    assert (me["email"], me["role"]) == ("ada@acme.test", "admin")
    # A viewer of acme: a plain user, in the groups acme and acme:viewer.
    mx = sign_in(world, "max@acme.test")
    assert ow(world, "/api/v1/auths/", mx)["role"] == "user"
    groups = members_of_groups(world, ada)
    assert groups.get(slug) == 2 and groups.get(f"{slug}:viewer") == 1 and groups.get(f"{slug}:owner") == 1, groups


def test_admin_only_when_the_client_maps_it(world):
    ob = world["ob"]
    st, _ = ob.call("PATCH", f"/api/v1/oidc/clients/{world['client']['id']}", {"admin_role": False})
    assert st == 200
    ada = sign_in(world, "ada@acme.test")
    assert ow(world, "/api/v1/auths/", ada)["role"] == "user", "the owner is no admin without the mapping"
    st, _ = ob.call("PATCH", f"/api/v1/oidc/clients/{world['client']['id']}", {"admin_role": True})
    assert st == 200
    ada = sign_in(world, "ada@acme.test")
    assert ow(world, "/api/v1/auths/", ada)["role"] == "admin"


def test_a_removed_member_loses_the_group_at_next_sign_in(world):
    ob, slug = world["ob"], world["acme"]["slug"]
    # The client sees every org now, so Max can still sign in (his own org) once removed.
    st, _ = ob.call("PATCH", f"/api/v1/oidc/clients/{world['client']['id']}", {"allowed_orgs": []})
    assert st == 200
    mx = sign_in(world, "max@acme.test")
    ada = sign_in(world, "ada@acme.test")
    assert members_of_groups(world, ada).get(f"{slug}:viewer") == 1
    st, _ = ob.call("DELETE", f"/api/v1/orgs/{world['acme']['id']}/members/{world['max']['user']['id']}")
    assert st == 204
    mx = sign_in(world, "max@acme.test")
    groups = members_of_groups(world, ada)
    assert groups.get(f"{slug}:viewer") == 0 and groups.get(slug) == 1, groups
    assert ow(world, "/api/v1/auths/", mx)["email"] == "max@acme.test"
