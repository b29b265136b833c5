"""The API documentation at /docs, served whole by the service: no CDN, a strict CSP.

FastAPI's own /docs loads Swagger UI from a CDN, unpinned and without a content security
policy: blank offline, and whatever the CDN serves runs on the service's origin. Here the
assets come from a pinned package (fastapi-offline ships Swagger UI's dist files) and the
page's start-up script is a file too, so the policy allows scripts and styles from the
service only.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response

ASSETS = Path(fastapi_offline.__file__).parent / "static"
# Scripts and styles from the service only; data: images are the icons inside Swagger's CSS;
# requests ("Try it out") to the service only.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}
_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} – API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="icon" href="/docs/favicon.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/start.js"></script>
</body>
</html>
"""
# No validator badge: it would send the description to validator.swagger.io.
_START = """window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
"""
# The files of the pinned package this page may load, and their types.
_FILES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon.png": "image/png",
}


def mount_api_docs(app: FastAPI) -> None:
    """/docs and its assets (build the app with docs_url=None and redoc_url=None)."""
    page = _PAGE.format(title=app.title)
    router = APIRouter(prefix="/docs", include_in_schema=False)

    @router.get("")
    async def documentation() -> HTMLResponse:
        return HTMLResponse(page, headers=_HEADERS)

    @router.get("/start.js")
    async def start_script() -> Response:
        return Response(_START, media_type="text/javascript", headers=_HEADERS)

    @router.get("/{name}")
    async def asset(name: str) -> Response:
        media_type = _FILES.get(name)
        if media_type is None:
            return Response(status_code=404, headers=_HEADERS)
        # The package is pinned: a day's cache is safe, and the page opens fast again.
        headers = _HEADERS | {"cache-control": "public, max-age=86400"}
        return FileResponse(ASSETS / name, media_type=media_type, headers=headers)

    app.include_router(router)
