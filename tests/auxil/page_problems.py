"""What went wrong in a browser page (console errors, failed requests, HTTP errors), whatever
the test was looking at, and every address the page asked for."""

from __future__ import annotations

from dataclasses import dataclass, field

from playwright.async_api import ConsoleMessage, Page, Request, Response


@dataclass
class Problems:
    """Everything that went wrong in the page, whatever the test was looking at."""

    found: list[str] = field(default_factory=list)
    # Every address the page asked for, to check what travels in them.
    urls: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("request", lambda request: self.urls.append(request.url))
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.found.append(f"page error: {error}"))
        page.on("requestfailed", self._request_failed)
        page.on("response", self._response)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.found.append(f"console error: {message.text}")

    def _request_failed(self, request: Request) -> None:
        # Aborted: the browser dropped it because the test went on to the next page (chromium
        # asks for the icon after the page has loaded). A refused, blocked or broken request
        # fails with another reason, and an answer of 400 or more is caught in _response.
        if request.failure == "net::ERR_ABORTED":
            return
        self.found.append(f"request failed: {request.method} {request.url} {request.failure}")

    def _response(self, response: Response) -> None:
        if response.status >= 400:
            self.found.append(f"HTTP {response.status}: {response.request.method} {response.url}")
