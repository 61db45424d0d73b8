"""Fixtures of the browser tests: an Orgbase server on a fresh database of the chosen
backend, the SMTP server it mails to, and a headless Chromium (Debian's, not one
downloaded by Playwright).

Run through scripts/browser, which installs what is needed and sets:
  ORGBASE_BIN              the server binary (default target/debug/orgbase)
  ORGBASE_AXE_JS           axe.min.js of the pinned axe-core
  ORGBASE_CHROMIUM         the browser (default /usr/bin/chromium)
  ORGBASE_TEST_POSTGRES_URL  for --backend=postgres: a server where a fresh database is made
"""

import os
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

import helpers
from helpers import create_org_via_panel, create_user_via_panel, sign_in
from mail import MailBox

ROOT = Path(__file__).resolve().parents[2]
ADMIN_EMAIL = "root@example.com"
ADMIN_PASSWORD = "password-123"
MASTER_KEY = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"


def pytest_addoption(parser):
    parser.addoption("--backend", default="sqlite", choices=["sqlite", "postgres"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def backend(request) -> str:
    return request.config.getoption("--backend")


@pytest.fixture(scope="session", autouse=True)
def _configure(backend):
    helpers.SCREENSHOTS = ROOT / "target" / "screenshots" / backend
    axe = os.environ.get("ORGBASE_AXE_JS", "")
    assert axe and Path(axe).is_file(), "ORGBASE_AXE_JS must name axe.min.js (scripts/browser sets it)"
    helpers.AXE_SOURCE = Path(axe).read_text()


@pytest.fixture(scope="session")
def mailbox():
    box = MailBox(free_port())
    box.start()
    yield box
    box.stop()


@dataclass
class Server:
    base: str
    backend: str
    log: Path
    # The database, for commands run beside the server (`orgbase oidc rotate-keys`).
    url: str = ""


@pytest.fixture(scope="session")
def server(backend, mailbox, tmp_path_factory):
    """A server on a fresh database: a new SQLite file, or a new PostgreSQL database
    (made and dropped with psql, as scripts/contract does)."""
    work = tmp_path_factory.mktemp(backend)
    pg_admin = os.environ.get("ORGBASE_TEST_POSTGRES_URL", "")
    pg_db = None
    if backend == "sqlite":
        url = f"sqlite://{work}/db.sqlite"
    else:
        assert pg_admin, "--backend=postgres needs ORGBASE_TEST_POSTGRES_URL"
        pg_db = f"orgbase_browser_{os.getpid()}"
        psql(pg_admin, f"DROP DATABASE IF EXISTS {pg_db}", f"CREATE DATABASE {pg_db}")
        url = pg_admin.rsplit("/", 1)[0] + "/" + pg_db
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(
        os.environ,
        ORGBASE_ADMIN_EMAIL=ADMIN_EMAIL,
        ORGBASE_ADMIN_PASSWORD=ADMIN_PASSWORD,
        ORGBASE_MASTER_KEY=MASTER_KEY,
        # Cheap password hashing: every test signs in.
        ORGBASE_ARGON2_MEMORY_KIB="1024",
        ORGBASE_ARGON2_ITERATIONS="1",
        ORGBASE_SIGNUP_MODE="open",
        ORGBASE_SMTP_URL=f"smtp://127.0.0.1:{mailbox.port}",
        ORGBASE_MAIL_FROM="Orgbase <orgbase@example.com>",
        ORGBASE_MAIL_POLL_MS="100",
        ORGBASE_PUBLIC_URL=base,
        RUST_LOG=os.environ.get("RUST_LOG", "warn"),
    )
    binary = os.environ.get("ORGBASE_BIN", str(ROOT / "target" / "debug" / "orgbase"))
    logs = ROOT / "target" / "browser-logs"
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"server-{backend}.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [binary, "serve", "--bind", f"127.0.0.1:{port}", "--database-url", url],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        wait_ready(base, proc, log)
        yield Server(base, backend, log, url)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if pg_db:
            psql(pg_admin, f"DROP DATABASE IF EXISTS {pg_db}", check=False)


def psql(url: str, *commands: str, check: bool = True) -> None:
    args = ["psql", "-q", url]
    for c in commands:
        args += ["-c", c]
    subprocess.run(args, check=check, stdout=subprocess.DEVNULL, stderr=None if check else subprocess.DEVNULL)


def wait_ready(base: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server was not ready in 30s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def browser():
    # Debian's chromium: Playwright drives it over CDP; none of Playwright's own
    # browser builds is downloaded (or could be, here).
    executable = os.environ.get("ORGBASE_CHROMIUM", "/usr/bin/chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, headless=True)
        yield b
        b.close()


@pytest.fixture
def new_page(browser, server):
    """Pages in fresh contexts (own cookies: one person each), light scheme, desktop size."""
    contexts = []

    def make():
        ctx = browser.new_context(base_url=server.base, viewport=helpers.DESKTOP, color_scheme="light")
        ctx.set_default_timeout(10_000)
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for c in contexts:
        c.close()


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture
def admin_page(new_page):
    """A page signed in as the system admin (the server's ORGBASE_ADMIN_EMAIL)."""
    p = new_page()
    sign_in(p, ADMIN_EMAIL, ADMIN_PASSWORD, expect_path="/admin/orgs")
    return p


@dataclass
class OrgAdmin:
    name: str
    email: str
    password: str
    org_name: str
    org_slug: str


@pytest.fixture(scope="session")
def org_admin(browser, server) -> OrgAdmin:
    """The future org admin and their org, made once through the system admin's panel
    (/admin/users, then /admin/orgs), as the README's first steps say."""
    who = OrgAdmin("Ada Admin", "ada@acme.test", "ada-password-1", "Acme Corp", "")
    ctx = browser.new_context(base_url=server.base, viewport=helpers.DESKTOP)
    try:
        p = ctx.new_page()
        sign_in(p, ADMIN_EMAIL, ADMIN_PASSWORD, expect_path="/admin/orgs")
        create_user_via_panel(p, who.name, who.email, who.password)
        who.org_slug = create_org_via_panel(p, who.org_name, who.email)
    finally:
        ctx.close()
    return who


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """Fails a test whose pages had problems (helpers.PROBLEMS: axe violations, pages
    wider than a phone), once its body is done, listing them all."""
    helpers.PROBLEMS.clear()
    outcome = yield
    found, helpers.PROBLEMS[:] = list(helpers.PROBLEMS), []
    if found and outcome.excinfo is None:
        outcome.force_exception(AssertionError("problems on the pages:\n  " + "\n  ".join(found)))
    elif found:
        print("problems on the pages before the failure:\n  " + "\n  ".join(found))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """One line per run that scripts/browser (and scripts/test) can grep:
    browser (<backend>): N passed, N failed, N skipped  (errors count as failed)."""
    s = terminalreporter.stats
    passed = len([r for r in s.get("passed", []) if r.when == "call"])
    failed = len(s.get("failed", [])) + len(s.get("error", []))
    skipped = len(s.get("skipped", []))
    terminalreporter.write_line(
        f"browser ({config.getoption('--backend')}): {passed} passed, {failed} failed, {skipped} skipped"
    )
