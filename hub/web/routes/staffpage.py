"""The staff accounts, for the administrator (changes go through `hub staff`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hub.store import queries
from hub.store import staff as staff_store
from hub.web.render import page
from hub.web.session import Admin, deps_of

router = APIRouter()


@router.get("/medarbejdere")
def staff_page(request: Request, v: Admin) -> Response:
    with queries.reading(deps_of(request).engine) as session:
        rows = staff_store.list_staff(session)
    return page(request, "staff.html", viewer=v, title="Medarbejdere", rows=rows)
