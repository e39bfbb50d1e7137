"""docs/policies.md is generated from the rule table and must not drift from it."""

from __future__ import annotations

from pathlib import Path

from hub.policies import RULES
from hub.policies.docgen import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "policies.md"


def test_committed_policies_page_equals_the_generated_one() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/policies.md is out of date: run `python -m hub.policies.docgen > docs/policies.md`"
    )


def test_the_page_documents_every_rule_with_citation_and_example() -> None:
    text = render()
    for r in RULES.values():
        section = text.split(f"### {r.id}\n", 1)[1].split("\n### ", 1)[0]
        assert r.citation in section and "**Example:**" in section and r.da in section, r.id
