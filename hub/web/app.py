"""The workspace application: security headers, static assets, the pages, and the answers to
"log in first" and "not for your role"; `mount_workspace` puts it under `/arbejdsrum/`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub.web.deps import WebDeps
from hub.web.render import PREFIX, page
from hub.web.routes import access_request, accesslog, assign, cases, decide, login, queues, reporter, staffpage, tokens
from hub.web.session import Forbidden, LoginRequired

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def create_web_app(deps: WebDeps) -> FastAPI:
    app = FastAPI(title="DKE arbejdsrum", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.deps = deps

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        target = f"{PREFIX}/log-ind" + ("?udloebet=1" if exc.expired else "")
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        return page(request, "error.html", 403, title="Ingen adgang", message=exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return page(request, "error.html", 404, title="Siden findes ikke", message="Siden eller sagen findes ikke.")
        return page(request, "error.html", exc.status_code, title="Fejl", message="Forespørgslen kunne ikke behandles.")

    app.mount("/static", StaticFiles(packages=[("hub.web", "static")]), name="static")
    for module in (login, queues, cases, decide, reporter, assign, accesslog, access_request, staffpage, tokens):
        app.include_router(module.router)
    return app


def mount_workspace(api: FastAPI, deps: WebDeps) -> None:
    """The workspace under `/arbejdsrum/`, and `/` leading staff to it."""
    api.mount(PREFIX, create_web_app(deps))

    @api.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/", status_code=303)
