"""Projection of a report onto the fields a decision allows: minimisation made mechanical."""

from __future__ import annotations

from typing import Any

from hub.schemas.report import ConcernReport


def project(report: ConcernReport, fields: frozenset[str]) -> dict[str, Any]:
    """The allowed fields of `report`, as JSON-ready values. Absent values are left out."""
    parts: dict[str, Any] = {
        "reporter": report.reporter.model_dump(mode="json"),
        "subject": report.subject.model_dump(mode="json") if report.subject else {},
        "concern": report.concern.model_dump(mode="json"),
    }
    out: dict[str, Any] = {}
    for name in sorted(fields):
        part, _, key = name.partition(".")
        value = parts.get(part, {}).get(key)
        if value is not None:
            out[name] = sorted(value) if isinstance(value, list) and key == "categories" else value
    return out
