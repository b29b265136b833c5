"""Hostile filters on the admin lead list and its CSV: ignored, never a server error."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.auxil.admin_browser import PROFILE, Account, sign_in
from tests.auxil.web_chat import drive, lead_of_session

# Each is ignored (the lead is listed) or filters as typed (it is not), never a 500.
IGNORED = (
    "programme=unknown",
    "programme=%25",
    "programme=ecole_du_web%27--",
    "status=%27%3B+DROP+TABLE+leads--",
    "site=%25",
    "from=9999-99-99",
    "to=9999-99-99",
    "from=1-1-1",
    # Beyond what a datetime holds once moved to UTC or to the next day: no bound at all.
    "from=0001-01-01",
    "to=9999-12-31",
    "page=99999999999999999999999999999",
    "page=-99999999999999999999",
    "page=1e9",
    "page=%00",
    "q=%00",
    "referrer=" + "x" * 500 + "&referrer=",
    # A cursor that does not parse opens the first page; one in the future too.
    "older=garbage",
    "older=12.a%00b",
    "older=-99999999999999999.x",
    "newer=" + "9" * 40 + ".x",
    "newer=99999999999999999.zz",
    "older=1.a&newer=2.b&older=",
)
FILTERING = (
    "to=0001-01-01",
    "from=9999-12-31",
    "q=%25%25_%21",
    "q=" + "9" * 300,
    "referrer=%00",
)


async def test_hostile_filters_list_or_filter_but_never_fail(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    transport = httpx.ASGITransport(app=admin_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://chat") as chat:
        await drive(chat, PROFILE, "session-hostile-0001")
    lead = await lead_of_session(admin_app.state.database, "session-hostile-0001")
    assert (await sign_in(http, await account("admin"))).status_code == 303
    for query, listed in [(q, True) for q in IGNORED] + [(q, False) for q in FILTERING]:
        page = await http.get("/admin/leads?" + query)
        export = await http.get("/admin/leads.csv?" + query)
        assert (page.status_code, export.status_code) == (200, 200), query
        assert (lead in page.text, lead in export.text) == (listed, listed), query
    # A cursor of 1970: no lead is older, and the way back to the list is offered.
    past = await http.get("/admin/leads?older=0.a")
    assert (past.status_code, lead in past.text) == (200, False)
    assert "Plus récents" in past.text
