"""The DKE staff workspace: a server-rendered Danish web application mounted by `hub serve` at
`/arbejdsrum/` (FastAPI and Jinja2; every asset in the package, no CDN, no inline script)."""

from hub.web.app import create_web_app, mount_workspace
from hub.web.deps import WebDeps
from hub.web.render import PREFIX

__all__ = ["PREFIX", "WebDeps", "create_web_app", "mount_workspace"]
