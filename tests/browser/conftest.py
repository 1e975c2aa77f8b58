"""Browser tests: Playwright driving Debian's Chromium against live_server. They fail, never skip, when Chromium is
missing. Screenshots go to artifacts/screenshots/ (kept by CI, ignored by git)."""

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest
import time_machine

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"

# Sync Playwright runs an event loop in the test thread; the ORM calls in the tests are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium is needed for the browser tests and was not found at {CHROMIUM} (make test installs it)."
        )
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(autouse=True)
def midday():
    """Every browser test runs at 12:00 UTC today, the clock ticking: the test's data and the live server (a thread of
    this process, which time-machine moves too) then agree on "today" in every time zone from UTC-11 to UTC+11. At the
    real hour, between 23:00 and 24:00 UTC Europe/Paris is already tomorrow and a page's "last 30 days" lost a day."""
    noon = dt.datetime.now(dt.UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    with time_machine.travel(noon, tick=True):
        yield noon


@pytest.fixture
def screenshot(page):
    """`screenshot("share-centre")` saves the current page as artifacts/screenshots/share-centre.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str, **kwargs):
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True, **kwargs)
        return path

    return take


@pytest.fixture
def login(page, live_server):
    """Log a user in through the real login page."""

    def do_login(email: str, password: str = "password"):
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Password", exact=True).fill(password)
        page.get_by_role("button", name="Log in", exact=True).click()

    return do_login


@pytest.fixture(scope="session")
def base_url(pytestconfig):
    """pytest-playwright's own `base_url` (used when pytest-base-url is not installed) is an instance method of a
    plugin object, which pytest deprecates; this one reads the same option and ini value."""
    return pytestconfig.getoption("--base-url") or pytestconfig.getini("base_url") or None
