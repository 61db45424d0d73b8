"""The org admin's story in the browser: the org made by the system admin (the
org_admin fixture: Ada, owner of "Acme Corp") is run from /org-admin. Each test signs
in anew; the few that need a verified domain get it from the system admin's approval
(there is no DNS here), as an operator would do."""

import re

from playwright.sync_api import Page, expect

from conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from helpers import check_page, create_org_via_panel, create_user_via_panel, focused, sign_in

SECTIONS = [
    ("", "dashboard"),
    ("/members", "members"),
    ("/invitations", "invitations"),
    ("/signup", "signup"),
    ("/domains", "domains"),
    ("/settings", "settings"),
    ("/keys", "keys"),
    ("/assistants", "assistants"),
    ("/import", "import"),
    ("/audit", "audit"),
    ("/export", "export"),
]


def org_page(page: Page, org_admin, section: str = "") -> None:
    page.goto(f"/org-admin/{org_admin.org_slug}{section}")
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def signed_in_admin(new_page, org_admin) -> Page:
    p = new_page()
    sign_in(p, org_admin.email, org_admin.password)
    return p


def ensure_verified_domain(new_page, org_admin, domain: str) -> None:
    """The org admin claims the domain (once); the system admin approves the claim on
    /admin/domains (the panel's way to verify without DNS)."""
    p = signed_in_admin(new_page, org_admin)
    org_page(p, org_admin, "/domains")
    exact = re.compile(f"^{re.escape(domain)}$")
    card = p.locator("section.card").filter(has=p.locator("h2 code", has_text=exact))
    if card.count() and card.first.get_by_text("verified", exact=True).count():
        return
    if not card.count():
        p.get_by_label("Domain", exact=True).fill(domain)
        p.get_by_role("button", name="Claim").click()
        expect(p.get_by_role("status")).to_contain_text(f"{domain} is claimed")
    root = new_page()
    sign_in(root, ADMIN_EMAIL, ADMIN_PASSWORD)
    root.goto("/admin/domains")
    check_page(root, "admin-domains-pending")
    root.get_by_role("button", name=f"Approve {domain} for {org_admin.org_slug}").click()
    expect(root.get_by_role("status")).to_contain_text(f"{domain} is approved")


def test_org_admin_signs_in_and_is_no_system_admin(page, org_admin):
    # "/" sends an org admin to the org admin's panel.
    sign_in(page, org_admin.email, org_admin.password)
    expect(page).to_have_url(re.compile(r"/org-admin(/.*)?$"))
    # No Admin link for them, and the system admin's pages do not exist for them.
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin", exact=True)).to_have_count(0)
    for path in ("/admin/orgs", "/admin/users", "/admin"):
        r = page.goto(path)
        assert r.status == 404, f"{path}: {r.status}"
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    check_page(page, "not-found")


def test_every_page_of_the_panel(new_page, org_admin):
    """Each section opens from the side navigation, is the current page there, and
    passes axe; screenshots at both widths (and dark for the dashboard)."""
    p = signed_in_admin(new_page, org_admin)
    org_page(p, org_admin)
    expect(p.get_by_role("heading", level=1)).to_have_text(org_admin.org_name)
    nav = p.get_by_role("navigation", name="Organization administration")
    for path, name in SECTIONS:
        org_page(p, org_admin, path)
        current = nav.locator("a[aria-current=page]")
        expect(current).to_have_count(1)
        assert current.get_attribute("href") == f"/org-admin/{org_admin.org_slug}{path}"
        check_page(p, f"org-{name}", dark=(name == "dashboard"))


def test_claim_domain_and_txt_record(new_page, org_admin):
    p = signed_in_admin(new_page, org_admin)
    org_page(p, org_admin, "/domains")
    p.get_by_label("Domain", exact=True).fill("research.acme.test")
    p.get_by_role("button", name="Claim").click()
    expect(p.get_by_role("status")).to_contain_text("research.acme.test is claimed")
    card = p.locator("section.card").filter(has=p.locator("h2 code", has_text="research.acme.test"))
    expect(card.locator("code.txt-name")).to_have_text("_orgbase-challenge.research.acme.test")
    expect(card.locator("code.txt-value")).to_have_text(re.compile(r"^orgbase-verification=\S+$"))
    check_page(p, "org-domains-claimed")
    # Verifying without the record published: refused, with the reason beside it.
    card.get_by_role("button", name=re.compile("^Verify")).click()
    alert = p.get_by_role("alert")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text(re.compile("TXT|record|DNS", re.I))
    check_page(p, "org-domains-refused")


def test_invite_and_accept_from_mail(new_page, org_admin, mailbox):
    p = signed_in_admin(new_page, org_admin)
    org_page(p, org_admin, "/invitations")
    form = p.locator("form[action$='/invitations']")
    form.get_by_label("E-mail").fill("newbie@example.com")
    form.get_by_label("Role").select_option("editor")
    form.get_by_role("button", name="Send the invitation").click()
    expect(p.get_by_role("status")).to_contain_text("newbie@example.com is invited; the link is on its way by mail")
    expect(p.get_by_role("row").filter(has_text="newbie@example.com")).to_have_count(1)
    check_page(p, "org-invitations-sent")

    link = mailbox.wait_for("newbie@example.com").link("/invitations/accept")
    guest = new_page()
    guest.goto(link)
    check_page(guest, "invitation-open")
    guest.get_by_role("link", name="Create your account with this invitation").click()
    guest.get_by_label("Your name").fill("Newbie")
    guest.get_by_label("E-mail").fill("newbie@example.com")
    guest.get_by_label(re.compile("^Password")).fill("newbie-password-1")
    guest.get_by_role("button", name="Create my account").click()
    expect(guest).to_have_url(re.compile(r"/account\?welcome=1$"))
    expect(guest.get_by_role("status").first).to_contain_text("Welcome")
    row = guest.get_by_role("row").filter(has_text=org_admin.org_slug)
    expect(row).to_contain_text("editor")

    org_page(p, org_admin, "/members")
    expect(p.get_by_role("row").filter(has_text="newbie@example.com")).to_have_count(1)
    check_page(p, "org-members-after-invite")


def test_rotate_signup_key(new_page, org_admin):
    p = signed_in_admin(new_page, org_admin)
    org_page(p, org_admin, "/signup")
    p.get_by_label("Let people sign up with the key").check()
    p.get_by_role("button", name="Save").click()
    expect(p.get_by_role("status")).to_contain_text("saved")
    first = p.locator("#signup-key").input_value()
    assert len(first) >= 16, first
    p.get_by_label("Make a new key").check()
    p.get_by_role("button", name="Save").click()
    expect(p.get_by_role("status")).to_contain_text("A new signup key is made")
    second = p.locator("#signup-key").input_value()
    assert second and second != first
    check_page(p, "org-signup-rotated")


def test_provider_key_is_masked(new_page, org_admin):
    secret = "sk-browser-0123456789abcdefWXYZ"
    p = signed_in_admin(new_page, org_admin)
    org_page(p, org_admin, "/settings")
    p.get_by_label(re.compile("^Provider")).fill("openai")
    p.get_by_label(re.compile("^API key")).fill(secret)
    p.get_by_label("Models").fill("gpt-4o-mini, gpt-4.1")
    p.get_by_role("button", name="Save the provider").click()
    expect(p.get_by_role("status")).to_contain_text("The provider openai is saved")
    row = p.get_by_role("row").filter(has=p.locator("code", has_text="openai"))
    expect(row.locator("code.masked")).to_have_text("sk-…WXYZ")
    # The key is in no part of the page, not even the JSON editor or a form field.
    assert secret not in p.content()
    assert p.get_by_label(re.compile("^API key")).input_value() == ""
    p.reload()
    assert secret not in p.content()
    check_page(p, "org-settings-masked")


def test_csv_import_after_validation_report(new_page, org_admin):
    ensure_verified_domain(new_page, org_admin, "acme.test")
    p = signed_in_admin(new_page, org_admin)
    org_page(p, org_admin, "/import")
    # A file with a bad row: the report says which and why, and offers no import.
    p.get_by_label("CSV", exact=True).fill("email,name,role\nbob@acme.test,Bob,viewer\nnot-an-address,Nobody,viewer\n")
    p.get_by_role("button", name="Check the file").click()
    expect(p.get_by_role("alert")).to_contain_text("have errors")
    expect(p.get_by_role("row").filter(has_text="not-an-address")).to_contain_text("error")
    expect(p.get_by_role("button", name="Import these rows")).to_have_count(0)
    check_page(p, "org-import-errors")
    # Fixed: the report first, nothing written yet ...
    p.get_by_label("CSV", exact=True).fill("email,name,role\nbob@acme.test,Bob,viewer\ncarol@acme.test,Carol,editor\n")
    p.get_by_role("button", name="Check the file").click()
    expect(p.get_by_role("heading", name="Validation report")).to_be_visible()
    expect(p.get_by_role("status")).to_contain_text("2 would be created")
    check_page(p, "org-import-report")
    members = new_page()
    sign_in(members, org_admin.email, org_admin.password)
    org_page(members, org_admin, "/members")
    expect(members.get_by_role("row").filter(has_text="bob@acme.test")).to_have_count(0)
    # ... then the import itself.
    p.get_by_role("button", name="Import these rows").click()
    expect(p.get_by_role("heading", name="Import done")).to_be_visible()
    expect(p.get_by_role("status")).to_contain_text("2 created")
    members.reload()
    expect(members.get_by_role("row").filter(has_text="bob@acme.test")).to_have_count(1)
    expect(members.get_by_role("row").filter(has_text="carol@acme.test")).to_contain_text("editor")


def test_org_audit_log(new_page, org_admin):
    p = signed_in_admin(new_page, org_admin)
    org_page(p, org_admin, "/audit")
    expect(p.get_by_role("row").filter(has=p.locator("code", has_text="org.create"))).to_have_count(1)
    # Filtered by action: only that action's events.
    p.get_by_label("Action").fill("org.create")
    p.get_by_role("button", name="Filter").click()
    actions = p.locator("tbody td[data-label=Action] code").all_inner_texts()
    assert actions and set(actions) == {"org.create"}, actions
    check_page(p, "org-audit-filtered")


def test_other_orgs_admin_is_refused(new_page, org_admin):
    root = new_page()
    sign_in(root, ADMIN_EMAIL, ADMIN_PASSWORD)
    create_user_via_panel(root, "Otto Other", "otto@other.test", "otto-password-1")
    other_slug = create_org_via_panel(root, "Other Org", "otto@other.test")
    otto = new_page()
    sign_in(otto, "otto@other.test", "otto-password-1")
    for path, _ in SECTIONS:
        r = otto.goto(f"/org-admin/{org_admin.org_slug}{path}")
        assert r.status == 404, f"{path}: {r.status}"
        assert org_admin.org_name not in otto.content()
    check_page(otto, "org-admin-of-another-org")
    # Their own panel works; suspended by the system admin, it refuses them with the reason.
    assert otto.goto(f"/org-admin/{other_slug}").status == 200
    root.goto("/admin/orgs")
    root.once("dialog", lambda d: d.accept())
    root.get_by_role("button", name=f"Suspend {other_slug}").click()
    expect(root.get_by_role("status")).to_contain_text("Other Org is suspended")
    r = otto.goto(f"/org-admin/{other_slug}")
    assert r.status == 403, r.status
    expect(otto.get_by_role("alert")).to_contain_text("suspended")
    check_page(otto, "org-suspended")
    root.get_by_role("button", name=f"Reactivate {other_slug}").click()
    expect(root.get_by_role("status")).to_contain_text("Other Org is active again")
    assert otto.goto(f"/org-admin/{other_slug}").status == 200


def test_invitation_form_with_the_keyboard_only(new_page, org_admin):
    """Tab reaches the invitation form's fields in order; typing, arrow keys and Enter
    send it. No click, no fill."""
    p = signed_in_admin(new_page, org_admin)
    org_page(p, org_admin, "/invitations")
    p.locator("body").focus()
    for _ in range(60):
        p.keyboard.press("Tab")
        if focused(p)["id"] == "invite_email":
            break
    else:
        raise AssertionError(f"Tab never reached the e-mail field; ended on {focused(p)}")
    p.keyboard.type("keys@example.com")
    p.keyboard.press("Tab")
    assert focused(p)["id"] == "invite_role", focused(p)
    p.keyboard.press("ArrowDown")  # viewer -> editor
    p.keyboard.press("Tab")
    f = focused(p)
    assert f["tag"] == "button" and f["text"] == "Send the invitation", f
    p.keyboard.press("Enter")
    expect(p.get_by_role("status")).to_contain_text("keys@example.com is invited")
    row = p.get_by_role("row").filter(has_text="keys@example.com")
    expect(row).to_contain_text("editor")
