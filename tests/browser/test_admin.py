"""The system admin's panel (/admin/...), as the first person on a new server uses it."""

import re

from playwright.sync_api import expect

from helpers import check_page


def test_system_admin_story(admin_page, org_admin):
    """The system admin signs in (admin_page lands on /admin/orgs), makes the future org
    admin on /admin/users and their org on /admin/orgs (the org_admin fixture, through
    the same forms), then finds the org in the list and by search; every admin page
    gets screenshots and an axe check."""
    page = admin_page
    page.goto("/admin/orgs")
    expect(page.get_by_role("heading", level=1)).to_have_text("Organizations")
    expect(page.locator("nav[aria-label='Administration'] a[aria-current='page']")).to_have_text("Organizations")
    # Listed, with the slug made from its name.
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=org_admin.org_name, exact=True))
    expect(row).to_have_count(1)
    expect(row.locator("code")).to_have_text(org_admin.org_slug)
    check_page(page, "admin-orgs", dark=True)

    # Searching finds it by part of its name, and misses with another word.
    search = page.get_by_role("search")
    search.get_by_label("Search by name or slug").fill("acme")
    search.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/admin/orgs\?q=acme"))
    expect(page.get_by_role("link", name=org_admin.org_name, exact=True)).to_be_visible()
    check_page(page, "admin-orgs-search")
    page.get_by_role("search").get_by_label("Search by name or slug").fill("no-such-org-zzz")
    page.get_by_role("search").get_by_role("button", name="Search").click()
    expect(page.get_by_text("No organization matches.")).to_be_visible()

    # The user made for it is in the users' list, and found by search.
    page.get_by_role("navigation", name="Administration").get_by_role("link", name="Users").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Users")
    ada = page.get_by_role("row").filter(has=page.locator(".mono", has_text=org_admin.email))
    expect(ada).to_have_count(1)
    check_page(page, "admin-users")
    page.get_by_role("search").get_by_label("Search by e-mail or name").fill("ada@")
    page.get_by_role("search").get_by_role("button", name="Search").click()
    expect(page.get_by_role("row")).to_have_count(2)  # the header and Ada
    expect(ada).to_have_count(1)

    # The other admin pages, reached through the side navigation.
    for link, heading, name in [
        ("Domain claims", "Pending domain claims", "admin-domains"),
        ("System org", "The system organization", "admin-system"),
        ("Mail outbox", "Mail outbox", "admin-mail"),
        ("Audit log", "Audit log", "admin-audit"),
    ]:
        page.get_by_role("navigation", name="Administration").get_by_role("link", name=link).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        check_page(page, name)

    # The audit log has the creations just made.
    expect(page.get_by_role("cell", name="org.create").first).to_be_visible()


def test_system_sync_button(admin_page):
    page = admin_page
    page.goto("/admin/system")
    page.get_by_role("button", name="Sync from the environment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("The system organization")
    expect(page.get_by_role("alert")).to_have_count(0)
    check_page(page, "admin-system-synced")
