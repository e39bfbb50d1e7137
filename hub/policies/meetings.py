"""Meetings by level: whom a decision may convene, and in which § 115 cooperation.

The PRO model's individual case work meets by level: Niveau I coordination meetings
(koordinationsmøder), Niveau II case meetings (sagsmøder), Niveau III the Operativgruppe, where
"DKE vurderer i hvert tilfælde hvilke medlemmer af Operativgruppen der skal indkaldes"
(`shared/seeds/dke-albertslund-website.txt`). Who belongs to each meeting is local
configuration (the registry's `[meetings]`), handed in as `members`.

This decides only who is convened: at Niveau III the members DKE names (at least one, each a
member); at Niveau I and II the level's standing participants, or the subset DKE names. What
each convened partner may receive is the disclosure policy's answer (`PolicyEngine.disclose`),
asked exactly as for a referral in `structure`. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import NamedTuple

from hub.schemas.decision import FORUM_OF_LEVEL, Forum, Level, Meeting, ReferralTarget, Structure

# The levels at which DKE must name whom it convenes (no default set of participants).
CHOSEN_BY_DKE = frozenset({Level.III})


class MeetingPlan(NamedTuple):
    """Who is convened (in the order given, or the registry's), to which forum, in which structure."""

    forum: Forum
    structure: Structure
    convened: tuple[str, ...]


class MeetingRefusal(NamedTuple):
    """Why a decision's meeting cannot be convened: a stable code (`hub.schemas.messages` has its
    Danish text), an English message, and the partner ids concerned."""

    code: str
    message: str
    partner_ids: tuple[str, ...] = ()


def plan_meeting(
    level: Level,
    meeting: Meeting,
    referrals: Collection[ReferralTarget],
    members: Mapping[Level, Collection[str]],
) -> MeetingPlan | MeetingRefusal:
    """The meeting of `level` as `meeting` asks for it, checked against the level's `members`.

    - convened: `meeting.convene`; empty at Niveau I/II means every standing participant;
    - every convened partner must be a member of the level's meeting (`meeting_not_member`);
    - at least one is convened (`meeting_nobody`): at Niveau III DKE must choose;
    - the structure is the meeting's, else the one structure of the decision's referrals
      (`meeting_structure_unclear` when there is none or several).
    """
    forum = FORUM_OF_LEVEL[level]
    known = members.get(level, ())
    convened = meeting.convene or (() if level in CHOSEN_BY_DKE else tuple(known))
    if not convened:
        if level in CHOSEN_BY_DKE:
            return MeetingRefusal("meeting_nobody", "Name the Operativgruppe's members DKE convenes (at least one).")
        return MeetingRefusal("meeting_nobody", f"The registry lists no participants of the Niveau {level} meeting.")
    outside = tuple(p for p in convened if p not in known)
    if outside:
        return MeetingRefusal(
            "meeting_not_member",
            f"Not members of the Niveau {level} meeting ({forum.value}): {', '.join(outside)}.",
            outside,
        )
    structure = meeting.structure
    if structure is None:
        structures = {t.structure for t in referrals}
        if len(structures) != 1:
            return MeetingRefusal(
                "meeting_structure_unclear",
                "Say in which cooperation (ssp, psp, ksp) the meeting shares the case: "
                "the decision's referrals name none or several.",
            )
        structure = next(iter(structures))
    return MeetingPlan(forum, structure, convened)
