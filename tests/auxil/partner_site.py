"""A partner's website on another origin, showing the chat with its code through /embed.js.

Its pages have the strictest CSP a partner could set (nothing inline, scripts and frames from
the service only, styles from the site itself) and a stylesheet that would spoil any widget
that let the host's rules in: what the widget must live with.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.partners.embedding import embed_snippet
from tests.auxil.servers import serve

CODE = "ML-BONDY"
# Rules a careless host stylesheet has: on every button, and inherited from everything.
HOST_CSS = """
* { letter-spacing: 3px; text-transform: uppercase; }
body { font: 20px/2 Georgia, serif; color: rgb(40, 40, 40); background: rgb(250, 250, 245); }
button { background: rgb(128, 0, 128); color: rgb(255, 255, 0); font-size: 30px;
         border: 4px dotted rgb(0, 128, 0); border-radius: 0; padding: 20px; }
p { margin: 40px; }
"""
PAGE = """<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Mission locale de Bondy</title>
<link rel="stylesheet" href="/host.css">
</head>
<body>
<header><h1>Mission locale de Bondy</h1></header>
<main>
<p id="host-text">Nous accompagnons les jeunes de 16 à 25 ans.</p>
<button type="button" id="host-button">Nos horaires</button>
</main>
{widget}
</body>
</html>
"""


def host_policy(service: str) -> str:
    """The partner's CSP: the service's script and frame, the site's own style, nothing else."""
    return (
        f"default-src 'none'; script-src {service}; frame-src {service}; style-src 'self'; "
        "base-uri 'none'; form-action 'none'"
    )


def partner_site(service: str, *, lang: str = "fr") -> Starlette:
    """``/with.html`` (the widget pasted in), ``/without.html`` (the same page before)."""
    headers = {"Content-Security-Policy": host_policy(service), "Cache-Control": "no-store"}

    async def page(request: Request) -> Response:
        with_widget = request.path_params["name"] == "with"
        # Pasted as the partners page shows it.
        widget = embed_snippet(service, CODE) if with_widget else ""
        body = PAGE.format(lang=lang, widget=widget)
        return Response(body, media_type="text/html", headers=headers)

    async def stylesheet(request: Request) -> Response:
        return Response(HOST_CSS, media_type="text/css", headers=headers)

    return Starlette(routes=[Route("/{name:str}.html", page), Route("/host.css", stylesheet)])


@contextmanager
def served_partner_site(service: str, *, lang: str = "fr") -> Iterator[str]:
    """The partner's site on its own port, named localhost: another site than the service on
    127.0.0.1, so the chat runs in a third-party frame as on a real partner's site."""
    with serve(partner_site(service, lang=lang)) as url:
        yield url.replace("//127.0.0.1:", "//localhost:")
