"""``/explorer``: the page and its assets, served from the package, talking only to /graphql.

The assets are built from ``explorer/`` (TypeScript, bundled by esbuild from the committed
npm lock file) into ``api/explorer/static/`` by ``make install`` (``npm run build``). The page
is the same in every environment: it holds no secret and reads nothing without the bearer
token the person gives it.

Its Content-Security-Policy lets the page load scripts, styles and images only from this
origin (PNG exports are ``blob:``/``data:`` URLs the page makes itself) and connect only to
this origin: no CDN, no web font, no telemetry, and an injected script could not send data
anywhere else either.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR: Final = Path(__file__).resolve().parent / "static"
PAGE: Final = STATIC_DIR / "index.html"
MANIFEST: Final = STATIC_DIR / "manifest.json"

CSP: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS: Final = {
    "Content-Security-Policy": CSP,
    # the token travels in the fragment, which browsers never send; no referrer either way
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}

router = APIRouter(include_in_schema=False)


@router.get("/explorer", response_model=None)
async def explorer_page() -> HTMLResponse:
    """The page, or a 503 that says how to build it."""
    if not MANIFEST.is_file():
        return HTMLResponse(
            "<!doctype html><title>explorer not built</title><p>The explorer's assets are "
            "not built: run <code>make install</code> (npm ci and npm run build).</p>",
            status_code=503,
            headers=PAGE_HEADERS,
        )
    return HTMLResponse(PAGE.read_text(encoding="utf-8"), headers=PAGE_HEADERS)


@router.get("/explorer/", response_model=None)
async def explorer_slash() -> RedirectResponse:
    # the fragment (the token) stays with the browser across a redirect
    return RedirectResponse("/explorer", status_code=308)


def mount_explorer(app: FastAPI) -> None:
    """Serve the page at ``/explorer`` and its assets under ``/explorer/assets``."""
    app.include_router(router)
    app.mount(
        "/explorer/assets",
        StaticFiles(directory=STATIC_DIR, check_dir=False),
        name="explorer-assets",
    )
