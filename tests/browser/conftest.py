"""Chromium driving the real service: ``incidents serve`` in its own process on each
backend, signed in through the pages as a person would.

The browser is Debian's ``chromium`` (no download): without it these tests skip, except
under ``CI=true`` where they fail. Each test module starts one server per backend (it
migrates a new, empty database itself) and each test gets a fresh browser context, whose
console is watched: an error logged there, a script error or a Content-Security-Policy
violation fails the test. Screenshots go to ``INCIDENTS_SCREENSHOTS`` (default
``var/screenshots``, which git ignores).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from playwright.sync_api import Browser, Page, sync_playwright

from application.tokens import Scope, TokenStore
from eventstore.engine import create_engine
from tests.browser.pages import READER_TOKEN, WRITER_TOKEN, Console, Site
from tests.conftest import IN_CI, unmigrated_postgres
from tests.integration.servers import incidents_server

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_MS = 10_000
WEBHOOKS_ENV = {
    # The webhooks pages deliver to a receiver on 127.0.0.1, over plain HTTP.
    "INCIDENTS_WEBHOOKS_ALLOW_HTTP": "true",
    "INCIDENTS_WEBHOOKS_ALLOW_PRIVATE": "true",
    "INCIDENTS_SECRET_KEY": Fernet.generate_key().decode(),
}

# CSP violations reach the console as errors too; this names the directive and the culprit.
_REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline code"}`);
});
"""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives Chromium against a served instance")


def _chromium_path() -> str:
    found = shutil.which("chromium")
    if found is None:
        reason = "Debian's chromium is not installed (apt-get install chromium)"
        if IN_CI:
            pytest.fail(f"CI=true requires the browser tests to run: {reason}")
        pytest.skip(reason)
    return found


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    executable = _chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield browser
        browser.close()


def _create_tokens(database_url: str) -> None:
    engine = create_engine(database_url)
    tokens = TokenStore(engine)
    tokens.create("alice", {Scope.READ, Scope.WRITE}, WRITER_TOKEN)
    tokens.create("rita", {Scope.READ}, READER_TOKEN)
    engine.dispose()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, chromium: Browser
) -> Iterator[Site]:
    """``incidents serve`` on a new database of the backend; it migrates it on start."""
    backend: str = request.param
    workdir = tmp_path_factory.mktemp(f"served-{backend}")
    with ExitStack() as stack:
        if backend == "sqlite":
            database_url = f"sqlite:///{workdir / 'incidents.db'}"
        else:
            database_url = stack.enter_context(unmigrated_postgres("incidents_browser"))
        served = stack.enter_context(incidents_server(database_url, workdir, **WEBHOOKS_ENV))
        _create_tokens(database_url)
        yield Site(served.url, backend, database_url)


@pytest.fixture
def console() -> Console:
    """The console of every page the test opens; any error it did not allow fails it."""
    return Console()


@pytest.fixture
def new_page(chromium: Browser, site: Site, console: Console) -> Iterator[Callable[..., Page]]:
    """``new_page(javascript=True)``: a page in a browser context of its own (its own cookies)."""
    with ExitStack() as stack:

        def make(javascript: bool = True) -> Page:
            context = chromium.new_context(base_url=site.url, java_script_enabled=javascript)
            stack.callback(context.close)
            context.set_default_timeout(TIMEOUT_MS)
            context.add_init_script(_REPORT_VIOLATIONS)
            page = context.new_page()
            console.watch(page)
            return page

        yield make
    unexpected = console.unexpected()
    assert not unexpected, "the pages logged errors:\n" + "\n".join(unexpected)


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    return new_page()


@pytest.fixture
def screenshot(site: Site) -> Callable[[Page, str], Path]:
    """``screenshot(page, label)``: the whole page as a PNG, named by backend and label."""
    folder = Path(os.environ.get("INCIDENTS_SCREENSHOTS") or ROOT / "var" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)

    def take(page: Page, label: str) -> Path:
        path = folder / f"{site.backend}-{label}.png"
        # The default caret="hide" leaves style="" on inputs, which htmx later copies when
        # it settles a swap: a violation of style-src that the page itself never causes.
        page.screenshot(path=path, full_page=True, caret="initial")
        return path

    return take
