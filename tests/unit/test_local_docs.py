"""/docs on the local runtime: our page and initializer, Swagger UI's assets from the
installed package (offline), nothing else under /docs, and every other path left to the API."""

from __future__ import annotations

import re

import pytest

from harvest.local import docs


def test_the_page_loads_only_local_assets_and_the_apis_own_document() -> None:
    page = docs.answer("GET", "/docs")

    assert page is not None
    assert page.status == 200
    assert page.headers["Content-Type"].startswith("text/html")
    html = page.body.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources
    assert all(source.startswith("/docs/") for source in sources), sources
    assert "http" not in html
    initializer = docs.answer("GET", "/docs/initializer.js")
    assert initializer is not None
    assert initializer.status == 200
    assert 'url: "/openapi.json"' in initializer.body.decode()
    assert docs.answer("GET", "/docs/") == page


@pytest.mark.parametrize("name", sorted(docs.ASSETS))
def test_each_asset_comes_from_the_installed_swagger_ui_package(name: str) -> None:
    folder = docs.assets_folder()
    assert folder is not None, "swagger-ui-py (a dev dependency) is not installed"

    page = docs.answer("GET", f"/docs/{name}")

    assert page is not None
    assert page.status == 200
    assert page.headers["Content-Type"] == docs.ASSETS[name]
    assert page.body == (folder / name).read_bytes()
    assert len(page.body) > 0


@pytest.mark.parametrize(
    "path",
    [
        "/docs/../template.yaml",
        "/docs/swagger-editor.js",
        "/docs/LICENSE",
        "/docs/x/initializer.js",
    ],
)
def test_nothing_else_under_docs_is_served(path: str) -> None:
    page = docs.answer("GET", path)

    assert page is not None
    assert page.status == 404


def test_docs_are_read_only() -> None:
    page = docs.answer("POST", "/docs")

    assert page is not None
    assert page.status == 405
    assert page.headers["Allow"] == "GET, HEAD"


@pytest.mark.parametrize("path", ["/health", "/openapi.json", "/docsx", "/me/docs", "/"])
def test_every_other_path_is_the_apis(path: str) -> None:
    assert docs.answer("GET", path) is None
