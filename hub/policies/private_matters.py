"""Purely private matters ("rent private forhold") beyond the health fields: the categories
and the free-text description, minimised per recipient.

Health and substance misuse (and what else the agreement lists as `private_matters.categories`)
may hide in the concern's categories, and any private matter may be in the description. The
agreement says per structure and recipient kind which private categories may go and whether
the description may; the description goes only when the triage decision also gives its own
reason why it is necessary (`description_justification`). A share on consent alone gets no
private category and no description: the consented fields are the agreement's consent list.
Pure: a function of the agreement and the values the engine passes (and memoises).
"""

from __future__ import annotations

from typing import NamedTuple

from hub.policies.agreement import Agreement
from hub.policies.facts import PartnerKind
from hub.policies.rules import PRIVATE_CATEGORIES, PRIVATE_DESCRIPTION
from hub.schemas.decision import Structure
from hub.schemas.report import Category

CATEGORIES, DESCRIPTION = "concern.categories", "concern.description"
_NONE: frozenset[str] = frozenset()


class Private(NamedTuple):
    """What the private-matters rules did to one recipient's fields."""

    fields: frozenset[str]  # the fields left
    withheld_categories: frozenset[str]  # categories removed from `concern.categories`
    applied: tuple[str, ...]  # PRIVATE-CATEGORIES and/or PRIVATE-DESCRIPTION, where they removed something
    removed: tuple[tuple[str, str], ...]  # (field, or `concern.categories:<category>`; rule id)


def minimise_private(
    agreement: Agreement,
    kind: PartnerKind,
    structure: Structure,
    consent_only: bool,
    fields: frozenset[str],
    categories: frozenset[Category],
    description_justified: bool,
) -> Private:
    """Remove the private categories and the description `kind` may not get in `structure`."""
    pm = agreement.private_matters
    allow = None if consent_only else pm.allow.get(structure, {}).get(kind)
    applied: list[str] = []
    removed: list[tuple[str, str]] = []
    withheld: frozenset[str] = _NONE
    if CATEGORIES in fields:
        private = categories & pm.categories
        if allow is not None:
            private = private - allow.categories
        if private:
            withheld = frozenset(c.value for c in private)
            applied.append(PRIVATE_CATEGORIES.id)
            removed += [(f"{CATEGORIES}:{c}", PRIVATE_CATEGORIES.id) for c in sorted(withheld)]
            if private == categories:  # nothing left to say
                fields = fields - {CATEGORIES}
    if DESCRIPTION in fields and not (allow is not None and allow.description and description_justified):
        fields = fields - {DESCRIPTION}
        applied.append(PRIVATE_DESCRIPTION.id)
        removed.append((DESCRIPTION, PRIVATE_DESCRIPTION.id))
    return Private(fields, withheld, tuple(applied), tuple(removed))
