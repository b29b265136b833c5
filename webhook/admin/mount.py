"""Putting the admin view into the service: its routers, error pages and headers."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response

from webhook.admin import data, deliveries, funnel, leads, referrers, sessions, sign_in
from webhook.admin.common import (
    AdminRedirect,
    AdminRefused,
    render,
    security_headers,
    see_other,
)

ROUTERS = [
    sign_in.router,
    leads.router,
    sessions.router,
    referrers.router,
    funnel.router,
    deliveries.router,
    data.router,
]


async def _redirect(request: Request, error: Exception) -> Response:
    assert isinstance(error, AdminRedirect)
    return see_other(error.location)


async def _refused(request: Request, error: Exception) -> Response:
    assert isinstance(error, AdminRefused)
    return render(
        request, "admin/refused.html", None, status_code=error.status, reason=error.reason
    )


def mount_admin(app: FastAPI) -> None:
    for router in ROUTERS:
        app.include_router(router)
    app.add_exception_handler(AdminRedirect, _redirect)
    app.add_exception_handler(AdminRefused, _refused)
    app.middleware("http")(security_headers)
