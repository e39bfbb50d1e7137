"""The access log for the jurist: per case, per staff member, or only break-glass views."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hub.store import access, queries
from hub.web.render import page
from hub.web.session import Jurist, deps_of

router = APIRouter()


@router.get("/adgangslog")
def access_log(request: Request, v: Jurist, sag: str = "", medarbejder: str = "", markerede: str = "") -> Response:
    with queries.reading(deps_of(request).engine) as session:
        rows = access.access_log(
            session, report_ref=sag.strip() or None, staff=medarbejder.strip() or None, flagged_only=bool(markerede)
        )
    return page(
        request,
        "access_log.html",
        viewer=v,
        title="Adgangslog",
        rows=rows,
        sag=sag,
        medarbejder=medarbejder,
        markerede=bool(markerede),
    )
