"""Swagger UI for the API at /docs, served by the local runtime only, offline.

The page and its small initializer are ours; the viewer's assets come from the swagger-ui-py
package (a dev dependency shipping Swagger UI 5, which reads OpenAPI 3.1), found on disk
without importing it, never from a CDN. The page loads the API's own /openapi.json (the
checked-in schemas/openapi.json), so "Try it out" calls this runtime through the same gateway
emulation as any client; protected routes take a `harvest token` in "Authorize".

The deployed API does not serve /docs: it would add the viewer's ~1.6 MB to every function's
package and one more public route, for what any viewer does with the deployed /openapi.json.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path

PREFIX = "/docs"
ASSET_PACKAGE = "swagger_ui"
# The assets the page uses, by file name in the package's static/ folder.
ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
INDEX = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Harvest Exchange API (local)</title>
  <link rel="stylesheet" href="{PREFIX}/swagger-ui.css">
  <link rel="icon" type="image/png" href="{PREFIX}/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{PREFIX}/swagger-ui-bundle.js"></script>
  <script src="{PREFIX}/initializer.js"></script>
</body>
</html>
"""
# BaseLayout: no top bar, so the page cannot be pointed at another document's URL.
INITIALIZER = """window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
};
"""


@dataclass(frozen=True, slots=True)
class Page:
    status: int
    headers: dict[str, str]
    body: bytes


def is_docs_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def answer(method: str, path: str) -> Page | None:
    """The runtime's answer for a /docs path; None for any other path (the API's)."""
    if not is_docs_path(path):
        return None
    if method not in {"GET", "HEAD"}:
        return _text(405, "method not allowed", Allow="GET, HEAD")
    name = path.removeprefix(PREFIX).strip("/")
    if name == "":
        return _page(INDEX.encode(), "text/html; charset=utf-8")
    if name == "initializer.js":
        return _page(INITIALIZER.encode(), ASSETS["swagger-ui-bundle.js"])
    if name not in ASSETS:
        return _text(404, f"no such file under {PREFIX}")
    folder = assets_folder()
    if folder is None:
        return _text(503, f"Swagger UI assets are missing: install the {ASSET_PACKAGE} package")
    return _page(_read(folder / name), ASSETS[name])


@functools.cache
def assets_folder() -> Path | None:
    """static/ of the installed swagger-ui-py, or None when it is not installed."""
    spec = importlib.util.find_spec(ASSET_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "static"
    return folder if folder.is_dir() else None


@functools.cache
def _read(file: Path) -> bytes:
    return file.read_bytes()


def _page(body: bytes, content_type: str) -> Page:
    return Page(200, {"Content-Type": content_type, "Cache-Control": "no-cache"}, body)


def _text(status: int, message: str, **headers: str) -> Page:
    return Page(status, {"Content-Type": "text/plain; charset=utf-8", **headers}, message.encode())
