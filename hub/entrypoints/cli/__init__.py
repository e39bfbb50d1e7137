"""The `hub` command: run the hub, inspect its configuration, and work the triage queues.

A package of command groups (see `main`); `hub = "hub.entrypoints.cli:main"` is the console script.
"""

from hub.entrypoints.cli.main import app, main

__all__ = ["app", "main"]
