"""/docs works offline: every file it loads comes from the service, under a strict CSP."""

from __future__ import annotations

import re

import httpx


async def test_the_documentation_loads_nothing_from_another_host(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    assert "<title>Aiguillage" in page.text
    references = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert references, page.text
    for reference in references:
        assert reference.startswith("/docs/"), reference  # no CDN, no other host
    assert "<script>" not in page.text  # no inline script for the policy to allow
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "style-src 'self';" in policy
    assert "unsafe" not in policy
    for reference in references:
        asset = await client.get(reference)
        assert asset.status_code == 200, reference
        assert asset.content, reference
        assert asset.headers["x-content-type-options"] == "nosniff"


async def test_the_assets_are_swagger_ui_and_the_start_script_reads_this_api(
    client: httpx.AsyncClient,
) -> None:
    bundle = await client.get("/docs/swagger-ui-bundle.js")
    assert bundle.headers["content-type"].startswith("text/javascript")
    assert "SwaggerUIBundle" in bundle.text
    start = await client.get("/docs/start.js")
    assert '"/openapi.json"' in start.text
    assert "validatorUrl: null" in start.text  # nothing sent to validator.swagger.io
    assert (await client.get("/openapi.json")).status_code == 200


async def test_no_other_file_is_served_under_docs(client: httpx.AsyncClient) -> None:
    for name in ("__init__.py", "..%2Fcore.py", "redoc.standalone.js", "index.html"):
        assert (await client.get(f"/docs/{name}")).status_code == 404, name
    assert (await client.get("/redoc")).status_code == 404
