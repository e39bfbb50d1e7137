"""The policy engine: the rules of `assess.py` and `disclose.py` applied under one agreement.

`PolicyEngine(agreement, calendar)` is made once, in the composition root (`hub.bootstrap`), and
handed to the services that decide: `assess(report, source, now)` for an incoming report,
`disclose(request, now)` for a referral. It holds everything the decisions reuse as plain
instance state, so there is no module-level cache, no `global` and nothing mutable inside a
frozen value anywhere in `hub/policies` (a test checks it):

- `_assessments`: the assessment without its deadlines, keyed by the fired rule ids (a few
  hundred combinations in practice);
- `_notifications`: the `Notification` value, keyed by (kind, rule ids) (a few dozen);
- `_disclosures`: the `Disclosure` value, keyed by (verdicts, field rules, fields, structure,
  partner id); a person's answers (`Request.answers`) change the verdicts (the answering rule
  replaces the escalating one), so they are part of the key through them;
- `_fields`: the allowed fields and the field rules that shaped them, keyed by (partner kind,
  structure, department, person, present fields) (at most 8 x 3 x 2 x 2 x 2**11);
- `_last_age`, `_last_present`: the last report's subject age and present fields, keyed by the
  report object (held, so its identity cannot be reused): one entry each;
- `_day`: the Danish date of the last `now`, the UTC span that date covers (`danish_day`) and
  that `now` (held): one entry;
- `calendar` (`WorkingDays`): the holidays per year and the receipt deadline per receipt hour
  (see `deadlines.py`).

The four tables are each cleared when they reach `memo_limit` entries (default 65,536).
Every entry is a pure function of its key and the agreement, so a memo never changes a
decision (a property test compares an engine's answers with a fresh engine's), and one engine
may be shared by the worker threads: a dict read or write is atomic, and the one-slot memos
are replaced as whole tuples.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TypeVar

from hub.policies import rules as R
from hub.policies.agreement import Agreement, Derived, derive
from hub.policies.assess import (
    DATA_INDEX,
    LEVELS,
    ROUTES,
    facts_for,
    informed,
    level,
    notification_grounds,
    route,
    rpl115_2,
    strfl141,
    strfl141_unknown,
)
from hub.policies.deadlines import WorkingDays, assess_by
from hub.policies.decision import (
    Assessment,
    Disclosure,
    Effect,
    Notification,
    NotificationKind,
    Verdict,
    build,
    combine,
)
from hub.policies.disclose import (
    Facts,
    Request,
    Shaped,
    criminal_data_note,
    evaluate,
    narrowed_fields,
    present_fields,
)
from hub.policies.disclose import facts as disclosure_facts
from hub.policies.facts import SourceFacts, age_of
from hub.policies.reporter import professional
from hub.policies.rules import CITATIONS, REASONS
from hub.schemas.dates import danish_day
from hub.schemas.events import Informed, PlannedOffence
from hub.schemas.report import ConcernReport

_K = TypeVar("_K")
_V = TypeVar("_V")

MEMO_LIMIT = 65536  # entries per memo table (each is cleared when it reaches this)

SHARE = Effect.SHARE
POLICE_ALERT, CHILDREN_NOTIFICATION = NotificationKind.POLICE_ALERT, NotificationKind.CHILDREN_NOTIFICATION
_REFUSED = (R.RPL115_2.id,)
_REFUSED_OFFENCE = (R.STRFL141_UNKNOWN.id,)
_STRFL141 = R.STRFL141.id
_BL133_1_4 = R.BL133_1_4.id
_DBL_8 = R.DBL_8.id
_CONSENT = R.CONSENT.id
_RECEIPT = R.BL_RECEIPT_6D.id
_DEADLINES = (R.BL_ASSESS_24H.id,)
_DEADLINES_PROFESSIONAL = (R.BL_ASSESS_24H.id, R.BL_RECEIPT_6D.id)
# Besides its grounds, a notification carries its deadlines and who is to be told of it.
_NOTIFICATION_EXTRAS = (*_DEADLINES_PROFESSIONAL, R.BL134_GENERAL.id, R.BL133_NOT_TOLD.id, R.BL133_INFORM.id)
_MIN_FIELDS_EMPTY_WITHHOLD = R.MIN_FIELDS_EMPTY.withhold
_NO_FIELDS: frozenset[str] = frozenset()
_NO_REPORT: tuple[ConcernReport | None, date | None, int | None] = (None, None, None)
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # the day memo's first value


class PolicyEngine:
    """Decisions under one agreement, with their memo tables (see the module docstring)."""

    def __init__(self, agreement: Agreement, calendar: WorkingDays | None = None, *, memo_limit: int = MEMO_LIMIT):
        self.agreement = agreement
        self.derived: Derived = derive(agreement)
        # The calendar counts the agreement's closed days, whatever calendar was handed in.
        self.calendar = (calendar if calendar is not None else WorkingDays()).following(self.derived.closed)
        self.memo_limit = memo_limit
        # Keyed by the fired rule ids, the planned offence's id and whether the child is told.
        self._assessments: dict[tuple[tuple[str, ...], str | None, bool], Assessment] = {}
        self._notifications: dict[tuple[object, ...], Notification] = {}
        self._disclosures: dict[tuple[object, ...], Disclosure] = {}
        self._fields: dict[tuple[object, ...], Shaped] = {}
        # The last report's age and present fields: a report is assessed and then disclosed to
        # several partners in a row. Keyed on the report object (held, so its identity cannot be
        # reused while it is here); a report is frozen, so the same object gives the same values.
        self._last_age = _NO_REPORT
        self._last_present: tuple[ConcernReport | None, frozenset[str]] = (None, _NO_FIELDS)
        self._day: tuple[datetime, datetime, date, datetime] = (*danish_day(_EPOCH), _EPOCH)
        self._refused, self._refused_offence = (
            build(
                Assessment,
                self._values(
                    refused,
                    accepted=False,
                    queue=None,
                    suggested_level=None,
                    suggested_pillar=None,
                    notifications=(),
                    assess_by=None,
                    receipt_due_by=None,
                ),
            )
            for refused in (_REFUSED, _REFUSED_OFFENCE)
        )

    @property
    def policy_version(self) -> str:
        """What every decision records: the policy's release and hash, and the agreement's."""
        return self.derived.policy_version

    def memo_sizes(self) -> dict[str, int]:
        """How many entries each memo table holds (for tests and diagnostics)."""
        return {
            "assessments": len(self._assessments),
            "notifications": len(self._notifications),
            "disclosures": len(self._disclosures),
            "fields": len(self._fields),
        }

    # --- shared facts ----------------------------------------------------------------------

    def day(self, now: datetime) -> date:
        """The Danish calendar date of the instant `now`: the date every age and window is taken on."""
        day = self._day
        if now is day[3]:  # a batch, and a report's assessment and disclosures, share one instant
            return day[2]
        try:
            inside = day[0] <= now < day[1]
        except TypeError:  # a naive time has no Danish date: `danish_day` says so
            inside = False
        if inside:
            self._day = (day[0], day[1], day[2], now)
            return day[2]
        start, end, today = danish_day(now)
        self._day = (start, end, today, now)
        return today

    def age(self, report: ConcernReport, today: date) -> int | None:
        last = self._last_age
        if last[0] is report and last[1] == today:
            return last[2]
        age = age_of(report, today)
        self._last_age = (report, today, age)
        return age

    def present_fields(self, report: ConcernReport) -> frozenset[str]:
        last = self._last_present
        if last[0] is report:
            return last[1]
        fields = present_fields(report)
        self._last_present = (report, fields)
        return fields

    def _remember(self, table: dict[_K, _V], key: _K, value: _V) -> _V:
        if len(table) >= self.memo_limit:
            table.clear()
        table[key] = value
        return value

    # --- assess ----------------------------------------------------------------------------

    def _values(self, rule_ids: tuple[str, ...], **values: object) -> dict[str, object]:
        return {
            **values,
            "rule_ids": rule_ids,
            "citations": tuple(CITATIONS[r] for r in rule_ids),
            "reasons": tuple(REASONS[r] for r in rule_ids),
            "policy_version": self.derived.policy_version,
        }

    def _notification(
        self,
        kind: NotificationKind,
        rule_ids: tuple[str, ...],
        grounds: tuple[str, ...],
        offence: PlannedOffence | None = None,
        told: Informed | None = None,
    ) -> Notification:
        key = (kind, rule_ids, offence.id if offence else None, told)
        found = self._notifications.get(key)
        if found is None:
            nf = self.agreement.notification_fields
            fields = nf.police_alert if kind is POLICE_ALERT else nf.children_notification
            found = Notification(
                kind=kind, rule_ids=rule_ids, grounds=grounds, fields=fields, offence=offence, informed=told
            )
            self._remember(self._notifications, key, found)
        return found

    def _template(
        self,
        rule_ids: tuple[str, ...],
        grounds: tuple[str, ...],
        level_id: str | None,
        route_id: str,
        offence: PlannedOffence | None,
        told: Informed | None,
    ) -> Assessment:
        """The assessment for this set of fired rules, without deadlines."""
        notifications = []
        if _STRFL141 in rule_ids:
            notifications.append(self._notification(POLICE_ALERT, (_STRFL141,), (_STRFL141,), offence))
        if grounds:
            extra = tuple(r for r in rule_ids if r in _NOTIFICATION_EXTRAS)
            notifications.append(self._notification(CHILDREN_NOTIFICATION, grounds + extra, grounds, told=told))
        queue, pillar = ROUTES[route_id]
        return build(
            Assessment,
            self._values(
                rule_ids,
                accepted=True,
                queue=queue,
                suggested_level=LEVELS[level_id].value if level_id is not None else None,
                suggested_pillar=pillar.value,
                notifications=tuple(notifications),
                assess_by=None,
                receipt_due_by=None,
            ),
        )

    def assess(self, report: ConcernReport, source: SourceFacts, now: datetime) -> Assessment:
        """Assess one report received at `now` from `source`. Never raises for a valid report."""
        f = facts_for(report, self.age(report, self.day(now)), self.derived.offences)
        if rpl115_2(f) is not None:
            return self._refused
        if strfl141_unknown(f) is not None:
            return self._refused_offence

        alert = strfl141(f) is not None
        fired = [_STRFL141] if alert else []
        grounds = notification_grounds(f)
        told = None
        if grounds:
            fired.extend(grounds)
            if professional(report, source):
                fired.extend(_DEADLINES_PROFESSIONAL)
            else:  # the reporter's duty was the general one; no receipt is owed to them
                fired.extend((*_DEADLINES, R.BL134_GENERAL.id))
            told_rule, told = informed(f, self.derived.child_from_age)
            fired.append(told_rule.id)
        for rid, check in DATA_INDEX:
            if check(f) is not None:
                fired.append(rid)
        level_verdict = level(f)
        level_id = level_verdict[0] if level_verdict is not None else None  # its rule id
        if level_id is not None:
            fired.append(level_id)
        route_id = route(f, level_id, alert or _BL133_1_4 in grounds).id  # urgent: a police alert or abuse
        fired.append(route_id)

        # Everything but the deadlines depends only on the rules that fired: build it once.
        rule_ids = tuple(fired)
        offence = self.derived.offences[report.concern.planned_offence or ""] if alert else None
        key = (rule_ids, offence.id if offence else None, told is not None and told.child)
        template = self._assessments.get(key)
        if template is None:
            template = self._remember(
                self._assessments, key, self._template(rule_ids, grounds, level_id, route_id, offence, told)
            )
        if not grounds:
            return template
        values = dict(template.__dict__)
        values["assess_by"] = assess_by(now)
        if _RECEIPT in rule_ids:
            values["receipt_due_by"] = self.calendar.receipt_due_by(now)
        return build(Assessment, values)

    # --- disclose --------------------------------------------------------------------------

    def _allowed_fields(self, f: Facts, consent_only: bool) -> Shaped:
        """Minimisation: the recipient kind's allow-list (or the consented fields, where consent
        alone is the basis), narrowed to what may go in this structure, to what the report holds
        and to the purely private matters the recipient may get; and the field rules that shaped
        them."""
        # Everything but DBL-8 follows from these, all immutable: computed once per engine.
        req = f.req
        key = (
            f.kind,
            f.structure,
            f.department,
            f.subject is not None,
            self.present_fields(req.report),
            req.report.concern.categories,
            len(req.description_justification.strip()) >= self.derived.min_justification_chars,
            f.consent_fields if consent_only else None,
        )
        found = self._fields.get(key)
        if found is None:
            found = self._remember(self._fields, key, narrowed_fields(self.agreement, *key))
        if found.criminal and criminal_data_note(f):
            return found._replace(applied=(*found.applied, _DBL_8))
        return found

    def facts(self, req: Request, now: datetime) -> Facts:
        """What the disclosure rules read about `req` at `now`."""
        today = self.day(now)
        return disclosure_facts(req, self.agreement, self.derived, now, self.age(req.report, today), today)

    def disclose(self, req: Request, now: datetime) -> Disclosure:
        """Decide one disclosure: share (with the exact field set), withhold or escalate."""
        f = self.facts(req, now)
        verdicts: list[Verdict] = evaluate(f)
        effect = combine(verdicts)
        fields = _NO_FIELDS
        applied: tuple[str, ...] = ()
        withheld: frozenset[str] = _NO_FIELDS
        removed: tuple[tuple[str, str], ...] = ()
        if effect is SHARE:
            # Consent alone is the basis when no other rule shares (the consented fields go).
            consent_only = f.consent_fields is not None and all(
                v.rule_id == _CONSENT for v in verdicts if v.effect is SHARE
            )
            fields, applied, _, withheld, removed = self._allowed_fields(f, consent_only)
            if not fields:
                verdicts.append(_MIN_FIELDS_EMPTY_WITHHOLD)
                effect, applied, withheld, removed = combine(verdicts), (), _NO_FIELDS, ()
        # Equal outcomes give equal decisions: reuse the frozen value instead of building it again.
        structure, partner_id = f.structure, f.recipient.partner_id
        key = (tuple(verdicts), applied, fields, withheld, removed, structure, partner_id)
        found = self._disclosures.get(key)
        if found is not None:
            return found
        rule_ids = tuple(v.rule_id for v in verdicts) + applied
        if effect is SHARE:
            shown = [v.rule_id for v in verdicts if v.effect is SHARE or v.effect is None] + list(applied)
        else:
            shown = [v.rule_id for v in verdicts if v.effect is effect]
        decision = build(
            Disclosure,
            {
                "effect": effect,
                "structure": structure.value,
                "partner_id": partner_id,
                "fields": fields,
                "withheld_categories": withheld,
                "removed": removed,
                "rule_ids": rule_ids,
                "citations": tuple(CITATIONS[r] for r in rule_ids),
                "reasons": tuple(REASONS[r] for r in shown),
                "policy_version": self.derived.policy_version,
            },
        )
        return self._remember(self._disclosures, key, decision)
