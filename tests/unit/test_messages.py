"""Every refusal code the hub can give has a Danish text for staff (`hub.schemas.messages`)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from hub.schemas.messages import DANISH, danish
from hub.services import pipeline

HUB = Path(__file__).resolve().parents[2] / "hub"

# The shared code table (docs and the common brief): the contract with senders.
DOCUMENTED = {
    "missing_event_field",
    "extra_fields",
    "not_utf8",
    "invalid_json",
    "duplicate_key",
    "too_large",
    "too_deep",
    "number_too_large",
    "string_too_long",
    "too_many_members",
    "control_character",
    "invalid_envelope",
    "invalid_report",
    "invalid_decision",
    "time_out_of_range",
    "source_mismatch",
    "unknown_type",
    "unknown_decision_source",
    "unknown_report",
    "unknown_partner",
    "already_decided",
    "unlawful_purpose",
    "unknown_offence",
    "unknown_source",
    "processing_failed",
    "unsupported_media_type",
    "unauthorized",
    "not_found",
    "unavailable",
}
# Where a refusal is made, the code is the first argument (of `_refusal` and the HTTP API's
# counting `refuse`, the second).
_MAKERS = {"Rejection": 0, "Refused": 0, "_Stop": 0, "_invalid": 0, "_refusal": 1, "refuse": 1}
# Internal: the JSON scanner's signal, answered as `invalid_json`.
_INTERNAL = {"invalid_json_constant"}


def codes_in_source() -> set[str]:
    """The string literals refusals are made with, anywhere in `hub/`."""
    codes: set[str] = set()
    for path in HUB.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            at = _MAKERS.get(name or "")
            if at is not None and len(node.args) > at:
                arg = node.args[at]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    codes.add(arg.value)
    # The policy's refusals: one code per refusing rule (`hub.policies.assess.REFUSAL_CODES`).
    from hub.policies.assess import REFUSAL_CODES

    return (codes | set(REFUSAL_CODES.values())) - _INTERNAL


def test_the_source_scan_finds_the_refusals() -> None:
    found = codes_in_source()
    assert {"invalid_json", "duplicate_key", "unlawful_purpose", "unknown_partner", "unsupported_media_type"} <= found


@pytest.mark.parametrize(
    "code",
    sorted(
        DOCUMENTED | codes_in_source() | {pipeline.MAX_DELIVERIES, pipeline.PROCESSING_FAILED, pipeline.UNKNOWN_SOURCE}
    ),
)
def test_every_code_has_a_danish_text(code: str) -> None:
    text = DANISH.get(code)
    assert text, f"no Danish text for refusal code {code!r} in hub/schemas/messages.py"
    assert text.rstrip().endswith("."), text
    assert "`" not in text and "JSON" not in text, f"{code}: staff text with technical terms: {text}"


def test_a_policy_refusal_adds_the_rules_own_reason() -> None:
    reason = "Formålet er ikke forebyggende."
    assert danish("unlawful_purpose", reason) == f"{DANISH['unlawful_purpose']} {reason}"
    assert danish("no_such_code")  # never empty, even for a code the table does not know yet
