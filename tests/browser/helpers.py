"""What the browser tests do again and again: sign in, take screenshots at two widths
(and in dark mode), and check a page with axe-core."""

import re
from pathlib import Path

from playwright.sync_api import Page, expect

# Set by conftest.py for the run: target/screenshots/<backend> and the axe-core source.
SCREENSHOTS: Path = Path("target/screenshots/unknown")
AXE_SOURCE: str = ""

# Problems found on pages (axe violations that fail, a page wider than a phone): kept
# here so that a test goes on to its end and reports them all at once; conftest.py
# fails the test when its body is done and this list is not empty.
PROBLEMS: list[str] = []

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def sign_in(page: Page, email: str, password: str, expect_path: str | None = None) -> None:
    """Signs in through the form, as a person would (labels and the button's name)."""
    page.goto("/sign-in")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_load_state()
    alert = page.get_by_role("alert")
    assert alert.count() == 0, f"sign-in as {email} failed: {alert.first.inner_text()}"
    expect(page.get_by_role("button", name=re.compile(r"^Sign out"))).to_be_visible()
    if expect_path is not None:
        expect(page).to_have_url(re.compile(re.escape(expect_path) + r"$"))


def sign_out(page: Page) -> None:
    page.get_by_role("button", name=re.compile(r"^Sign out")).click()
    expect(page).to_have_url(re.compile(r"/sign-in$"))


def shot(page: Page, name: str, dark: bool = False) -> None:
    """Full-page screenshots at desktop (1280x800) and phone (390x844) widths:
    target/screenshots/<backend>/<name>-desktop.png and -phone.png (with dark=True:
    <name>-dark-desktop.png and -dark-phone.png, in the dark colour scheme)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    before = page.viewport_size
    suffix = "-dark" if dark else ""
    if dark:
        page.emulate_media(color_scheme="dark")
    try:
        for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(size)
            page.screenshot(path=str(SCREENSHOTS / f"{name}{suffix}-{label}.png"), full_page=True)
            if label == "phone":
                _check_no_sideways_scroll(page, f"{name}{suffix}-phone")
    finally:
        if dark:
            page.emulate_media(color_scheme="light")
        if before:
            page.set_viewport_size(before)


def _check_no_sideways_scroll(page: Page, name: str) -> None:
    """At phone width the page itself must not scroll sideways (tables scroll inside
    their own box); a wider page means something is cut off or too wide."""
    wide = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    if wide > 1:
        culprits = page.evaluate(
            "() => [...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right >"
            " document.documentElement.clientWidth + 1).slice(0, 3).map(e => e.tagName.toLowerCase() +"
            " (e.id ? '#' + e.id : '') + (e.className ? '.' + String(e.className).split(' ').join('.') : ''))"
        )
        PROBLEMS.append(f"{name}: the page is {wide}px wider than a phone screen (WCAG 1.4.10 reflow); "
                        f"sticking out: {', '.join(culprits)}")


# Impacts that fail a test; the others are printed and written to the report only.
FAILING_IMPACTS = ("serious", "critical")


def axe_check(page: Page, name: str | None = None) -> list[dict]:
    """Runs axe-core (all rules of its default set: WCAG 2.x A/AA and best practices)
    on the page as it is now; any violation of impact "serious" or "critical" fails the
    test (when its body is done, so that one run reports them all). Every violation is printed and appended to
    target/screenshots/<backend>/axe-report.txt.

    The page's CSP (script-src 'self') refuses add_script_tag (it adds an inline
    <script>), so axe's source is evaluated through the DevTools protocol instead
    (page.evaluate), which CSP does not govern: the page keeps its real CSP and no
    bypass_csp is needed."""
    name = name or page.url
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE)
    passes, result = page.evaluate(
        "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
        " return [r.passes.length, r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,"
        " nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html, summary: n.failureSummary}))}))]; }"
    )
    assert passes > 0, f"axe checked nothing on {name}"
    if result:
        lines = [f"axe: {len(result)} violation(s) on {name} ({page.url}):"]
        for v in result:
            lines.append(f"  [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
            for n in v["nodes"]:
                lines.append(f"      at {n['target']}: {n['html'][:160]}")
                for s in (n["summary"] or "").splitlines():
                    lines.append(f"        {s}")
        text = "\n".join(lines)
        print(text)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        with open(SCREENSHOTS / "axe-report.txt", "a") as f:
            f.write(text + "\n\n")
    for v in result:
        if v["impact"] in FAILING_IMPACTS:
            targets = "; ".join(n["target"] for n in v["nodes"])
            PROBLEMS.append(f"axe on {name}: [{v['impact']}] {v['id']} ({v['help']}) at {targets}")
    return result


def check_page(page: Page, name: str, dark: bool = False) -> None:
    """Screenshots at both widths, then axe (also in the dark scheme when dark=True:
    its colours are different, so is its contrast)."""
    shot(page, name)
    axe_check(page, name)
    if dark:
        shot(page, name, dark=True)
        page.emulate_media(color_scheme="dark")
        try:
            axe_check(page, f"{name} (dark)")
        finally:
            page.emulate_media(color_scheme="light")


def hidden_csrf(page: Page) -> str:
    return page.locator("input[name=csrf]").first.input_value()


def focused(page: Page) -> dict:
    """What has the keyboard focus: tag, id, accessible-ish name, class."""
    return page.evaluate(
        "() => { const e = document.activeElement; return {tag: e.tagName.toLowerCase(), id: e.id,"
        " cls: e.className || '', text: (e.innerText || e.value || '').trim().slice(0, 40),"
        " left: e.getBoundingClientRect().left}; }"
    )


# The system admin's panel, used by the admin story and to set up the org admin.

def create_user_via_panel(page: Page, name: str, email: str, password: str) -> None:
    page.goto("/admin/users")
    form = page.locator("form[action='/admin/users/new']")
    form.get_by_label("Name").fill(name)
    form.get_by_label("E-mail").fill(email)
    form.get_by_label("Password").fill(password)
    form.get_by_role("button", name="Create the user").click()
    expect(page.get_by_role("status")).to_contain_text(f"{email} is created")


def create_org_via_panel(page: Page, name: str, owner_email: str) -> str:
    """Creates the org (slug made from the name) and returns its slug, read from the list."""
    page.goto("/admin/orgs")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Its admin (owner): an existing user's e-mail").fill(owner_email)
    page.get_by_role("button", name="Create the organization").click()
    expect(page.get_by_role("status")).to_contain_text(f"{name} is created, with {owner_email} as its owner")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=name, exact=True))
    return row.locator("code").first.inner_text()
