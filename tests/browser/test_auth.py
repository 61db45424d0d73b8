"""Signing in and the pages around it (sign-up, password reset, the links from mails),
the account page, and the CSRF guard."""

import re

from playwright.sync_api import expect

import helpers
from conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from helpers import check_page, focused, hidden_csrf, sign_in, sign_out


def test_signed_out_pages(page):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    check_page(page, "sign-in", dark=True)
    page.get_by_role("link", name="Sign up").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign up")
    check_page(page, "sign-up")
    page.goto("/sign-in")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reset your password")
    check_page(page, "password-reset")


def test_browser_form_posts_pass_the_csrf_guard(page, server):
    """A form sent by a real browser from the server's own page is not taken for a
    cross-site one. Chromium sends "Origin: null" on form posts from a page whose
    Referrer-Policy is no-referrer, so a guard that compares Origin with Host must allow
    for it (or the page must use a policy such as same-origin)."""
    response = page.goto("/sign-in")
    policy = response.headers.get("referrer-policy")
    page.get_by_label("E-mail").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Sign in", exact=True).click()
    r = posted.value
    assert r.status != 403, (
        f"the browser's own sign-in form was refused (403: {page.get_by_role('alert').first.inner_text()!r}); "
        f"it sent Origin: {r.request.all_headers().get('origin')!r}, "
        f"Sec-Fetch-Site: {r.request.all_headers().get('sec-fetch-site')!r}; the page's Referrer-Policy: {policy!r}"
    )


def test_wrong_password_is_explained(page):
    page.goto("/sign-in")
    page.get_by_label("E-mail").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    alert = page.get_by_role("alert")
    expect(alert).to_be_visible()
    text = alert.inner_text().strip()
    # Readable: a sentence for a person, not an error code or a stack of JSON.
    assert len(text) >= 10 and not text.startswith("{") and "error" not in text.lower().split()[:1], text
    print(f"sign-in error message: {text!r}")
    expect(page.get_by_label("E-mail")).to_have_value(ADMIN_EMAIL)
    expect(page.get_by_label("Password")).to_have_value("")
    expect(page.get_by_role("button", name=re.compile(r"^Sign out"))).to_have_count(0)
    check_page(page, "sign-in-error")


def test_sign_in_with_the_keyboard_only(page):
    """No clicks and no fill: Tab, Shift+Tab, typing and Enter, as a keyboard user."""
    page.goto("/sign-in")
    kb = page.keyboard
    # Nothing is focused on arrival (no autofocus): the first Tab stop of the page is
    # the skip link.
    assert focused(page)["tag"] == "body", f"focus on arrival: {focused(page)}"
    kb.press("Tab")
    first = focused(page)
    assert first["text"] == "Skip to content" and "skip" in first["cls"], f"first Tab stop: {first}"
    assert first["left"] >= 0, "the skip link stays off screen when it has the focus"
    page.screenshot(path=str(helpers.SCREENSHOTS / "sign-in-skip-link-desktop.png"))

    # The skip link leads into the main content, whose first stop is the e-mail field;
    # then the password, then the Sign in button.
    kb.press("Enter")
    assert focused(page)["tag"] == "main", f"the skip link led to {focused(page)}"
    order = []
    for _ in range(3):
        kb.press("Tab")
        f = focused(page)
        order.append(f["id"] or f["text"])
    assert order == ["email", "password", "Sign in"], f"focus order after the skip link: {order}"

    # Back to the e-mail field, type, Tab, type, Enter.
    kb.press("Shift+Tab")
    kb.press("Shift+Tab")
    assert focused(page)["id"] == "email"
    kb.type(ADMIN_EMAIL)
    kb.press("Tab")
    kb.type(ADMIN_PASSWORD)
    kb.press("Enter")
    expect(page).to_have_url(re.compile(r"/admin/orgs$"))
    expect(page.get_by_role("button", name=re.compile(r"^Sign out"))).to_be_visible()


def test_account_page(page, org_admin):
    sign_in(page, org_admin.email, org_admin.password)
    page.goto("/account")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    # The org made for them is listed, with a link to its panel (they own it).
    orgs = page.get_by_role("region", name="Your organizations")
    expect(orgs.get_by_role("link", name=org_admin.org_slug)).to_be_visible()
    check_page(page, "account", dark=True)

    # A personal API key: its secret is shown once, then only its prefix.
    keys = page.get_by_role("region", name="Personal API keys")
    keys.get_by_label("New key's name").fill("laptop")
    keys.get_by_role("button", name="Create a key").click()
    secret = page.get_by_label("Copy it now: it is not shown again")
    expect(secret).to_be_visible()
    value = secret.input_value()
    assert len(value) > 20, value
    check_page(page, "account-key-secret")
    page.goto("/account")
    expect(page.get_by_label("Copy it now: it is not shown again")).to_have_count(0)
    assert value not in page.content()
    keys = page.get_by_role("region", name="Personal API keys")
    expect(keys.get_by_role("cell", name="laptop", exact=True)).to_be_visible()
    # Deleting asks first (data-confirm); accept the dialog.
    page.once("dialog", lambda d: d.accept())
    keys.get_by_role("button", name="Delete laptop").click()
    expect(page.get_by_role("region", name="Personal API keys").get_by_text("No keys.")).to_be_visible()


def test_password_reset_by_mail(page, mailbox, server):
    """The link comes by mail (the in-process SMTP server), as it would to a person."""
    # A user to reset: sign up (open sign-up on this server).
    page.goto("/sign-up")
    page.get_by_label("Your name").fill("Reset Me")
    page.get_by_label("E-mail").fill("resetme@example.com")
    page.get_by_label("Password").fill("first-password-1")
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("button", name=re.compile(r"^Sign out"))).to_be_visible()
    sign_out(page)

    page.goto("/password-reset")
    page.get_by_label("E-mail").fill("resetme@example.com")
    page.get_by_role("button", name="Mail me a link").click()
    expect(page.get_by_role("status")).to_contain_text("a link to set a new password is on its way")
    link = mailbox.wait_for("resetme@example.com", "password").link("/set-password")
    assert link.startswith(server.base + "/set-password?token="), link
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Set your password")
    check_page(page, "set-password")
    page.get_by_label("New password").fill("second-password-2")
    page.get_by_role("button", name="Set my password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password is set")
    # Open sign-up made them an org of their own, so "/" sends them to its panel.
    sign_in(page, "resetme@example.com", "second-password-2", expect_path="/org-admin/reset-me")


def test_post_without_csrf_is_refused(page, org_admin):
    sign_in(page, org_admin.email, org_admin.password)
    page.goto("/account")
    # The session cookie goes along (the page's context), but no csrf field.
    r = page.request.post("/account/name", form={"name": "Mallory"}, max_redirects=0)
    assert r.status == 403, f"{r.status}: {r.text()[:300]}"
    # A wrong one is refused too; the form's own one works (so the 403 was the CSRF guard).
    r = page.request.post("/account/name", form={"name": "Mallory", "csrf": "0" * 64}, max_redirects=0)
    assert r.status == 403, f"{r.status}: {r.text()[:300]}"
    r = page.request.post("/account/name", form={"name": org_admin.name, "csrf": hidden_csrf(page)}, max_redirects=0)
    assert r.status < 400, f"{r.status}: {r.text()[:300]}"


def test_confirm_email_from_mail(page, mailbox, org_admin):
    """The account page mails a confirmation link; following it confirms the address."""
    sign_in(page, org_admin.email, org_admin.password)
    page.goto("/account")
    page.get_by_role("button", name="Mail me a confirmation link").click()
    expect(page.get_by_role("status").first).to_be_visible()
    link = mailbox.wait_for(org_admin.email, "").link("/verify-email")
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your e-mail address")
    check_page(page, "verify-email")
    page.get_by_role("button", name="Confirm my address").click()
    expect(page.get_by_role("status")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)
    page.goto("/account")
    profile = page.get_by_role("region", name="Profile")
    expect(profile.get_by_text("confirmed", exact=True)).to_be_visible()


def test_links_with_a_bad_token(page):
    """A stale or mistyped link from a mail: the page says so, readably."""
    page.goto("/invitations/accept?token=not-a-real-token")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your invitation")
    check_page(page, "invitation-signed-out")
    page.goto("/set-password?token=not-a-real-token")
    page.get_by_label("New password").fill("some-password-1")
    page.get_by_role("button", name="Set my password").click()
    expect(page.get_by_role("alert")).to_be_visible()
    print(f"bad set-password token: {page.get_by_role('alert').inner_text()!r}")
    check_page(page, "set-password-bad-token")
