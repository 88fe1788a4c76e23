"""/docs works offline: the page and everything it loads come from the service itself."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.docs import ASSETS, SWAGGER_UI_VERSION
from application.settings import Settings

EXPECTED_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".png": "image/png",
    ".json": "application/json",
}


class _References(HTMLParser):
    """Every URL the page makes a browser load: src, href, and the script's ``url:``."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.in_script = tag == "script"
        self.urls.extend(value for name, value in attrs if name in {"src", "href"} and value)

    def handle_endtag(self, tag: str) -> None:
        self.in_script = False

    def handle_data(self, data: str) -> None:
        if self.in_script:
            for line in data.splitlines():
                key, _, value = line.strip().partition(":")
                if key.strip("\"' ") == "url":
                    self.urls.append(value.strip(" ,'\""))


@pytest.fixture(scope="module")
def anonymous(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    """No token: the docs are public, like the document they show."""
    url = f"sqlite:///{tmp_path_factory.mktemp('docs') / 'unused.db'}"
    return TestClient(create_app(Settings(database_url=url)))


def test_the_docs_page_loads_only_same_origin_urls_and_each_answers(anonymous: TestClient) -> None:
    page = anonymous.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    references = _References()
    references.feed(page.text)
    assert len(references.urls) >= 4  # the CSS, the favicon, the script, the document
    for url in references.urls:
        parts = urlsplit(url)
        assert (parts.scheme, parts.netloc) == ("", ""), f"{url} leaves the service"
        assert url.startswith("/"), url
        answer = anonymous.get(url)
        assert answer.status_code == 200, url
        expected = EXPECTED_TYPES[Path(parts.path).suffix or ".json"]
        assert answer.headers["content-type"].split(";")[0] == expected, url
        assert answer.content, url
    assert "://" not in page.text  # nor anywhere else in the page


def test_the_served_assets_are_the_packaged_copy(anonymous: TestClient) -> None:
    bundle = anonymous.get("/docs/assets/swagger-ui-bundle.js")
    assert bundle.content == (ASSETS / "swagger-ui-bundle.js").read_bytes()
    assert f'"{SWAGGER_UI_VERSION}"' in bundle.text  # the version it reports in the UI
    assert "Apache License" in (ASSETS / "LICENSE").read_text()
    assert SWAGGER_UI_VERSION in (ASSETS / "README.md").read_text()


def test_no_cdn_page_is_left(anonymous: TestClient) -> None:
    """FastAPI's ReDoc page loads its script and fonts from CDNs: it is not served."""
    assert anonymous.get("/redoc").status_code == 404
