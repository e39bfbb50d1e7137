"""docs/policies.md, generated from the rule table: `python -m hub.policies.docgen > docs/policies.md`.

Reads the same declarations as the decisions and `hub policy explain` (`rules.py`).
Every rule with its id, citation, layer, what it decides, the reasons staff read, and a
worked example whose outcome is computed here, not written by hand. A test checks that the
committed file equals `render()`, so the page cannot drift from the code.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from hub.policies.agreement import Agreement, consent_recipients
from hub.policies.citations import Status, check_of, parts
from hub.policies.decision import Assessment, Disclosure, combine
from hub.policies.engine import PolicyEngine
from hub.policies.examples import EXAMPLE_AGREEMENT, EXAMPLE_NOW, Example, examples
from hub.policies.rules import POLICY_LABEL, QUESTIONS, RULES, Layer, Rule
from hub.schemas.decision import Structure

_LAYER = {
    Layer.STATUTE: "statute",
    Layer.AGREEMENT: "statute, with values from the local agreement",
    Layer.PRACTICE: "DKE's local practice (not law)",
    Layer.LOCAL: "the local agreement's own choice (not statute)",
}
_STATUS = {Status.CHECKED: "checked", Status.UNCONFIRMED: "**unconfirmed**", Status.LOCAL: "local, not statute"}


def _checks(citation: str, *, short: bool = False) -> str:
    """Each part of a citation with its check status (`citations.CHECKS`); `short`: the statuses."""
    out = []
    for part in parts(citation):
        check = check_of(part)
        status = _STATUS[check.status] if check is not None else "**not recorded**"
        out.append(status if short else f"{part}: {status}")
    return "; ".join(out)


def _citation_sources() -> list[str]:
    """Every citation part used by a rule, its status, its sources and what they confirm."""
    lines = ["## Citations and where they were checked", "",
             "Each provision a rule cites, checked against the statute's text as quoted by the source named "
             "(pages quoting the law, and the ministries' guidance, as the project's reference search holds "
             "them; `hub/policies/citations.py`). *Unconfirmed* means the text was not found, or only in part "
             "(the note says what is missing); *local* is not statute. The legal team should confirm each "
             "against retsinformation.dk.", "",
             "| provision | status | source | note |", "|---|---|---|---|"]
    seen: dict[str, None] = {}
    for r in RULES.values():
        seen.update(dict.fromkeys(parts(r.citation)))
    for part in seen:
        check = check_of(part)
        if check is None:
            lines.append(f"| {part} | **not recorded** | | |")
            continue
        sources = "; ".join(f"[{s.title}]({s.url})" for s in check.sources) or "none"
        lines.append(f"| {part} | {_STATUS[check.status]} | {sources} | {check.note} |")
    return [*lines, ""]


def _code(items: Iterable[str], *, keep_order: bool = False) -> str:
    values = list(items) if keep_order else sorted(items)
    return ", ".join(f"`{v}`" for v in values) if values else "nothing"


def outcome(decision: Assessment | Disclosure) -> str:
    """A one-line account of a decision, for the docs."""
    if isinstance(decision, Disclosure):
        text = f"**{decision.effect.value}**"
        if decision.fields:
            text += f" of {_code(decision.fields)}"
    elif not decision.accepted:
        text = "**report refused**"
    else:
        assert decision.queue is not None
        text = f"queue **{decision.queue.value}**, pillar {decision.suggested_pillar}"
        if decision.suggested_level:
            text += f", Niveau {decision.suggested_level}"
        if decision.notifications:
            text += "; notifications: " + ", ".join(n.kind.value for n in decision.notifications)
        if decision.assess_by:
            text += f"; assess by {decision.assess_by.isoformat()}"
        if decision.receipt_due_by:
            text += f"; receipt due by {decision.receipt_due_by.isoformat()}"
    return f"{text} (rules: {_code(decision.rule_ids, keep_order=True)})"


def _example(e: Example, engine: PolicyEngine) -> str:
    kind = "assessment" if e.to is None else (
        f"disclosure to a `{e.to.kind.value}` partner in {e.structure.value.upper() if e.structure else '?'}"
        + (" (self-governing)" if e.to.self_governing else "")
    )
    if e.agreement is not None:
        kind += ", under its own agreement"
    if e.answers:
        kind += ", answered: " + ", ".join(f"`{q}` = `{a}`" for q, a in e.answers)
    return f"{e.title} ({kind}) → {outcome(e.run(engine))}"


def _rule(r: Rule, example: Example | None, engine: PolicyEngine) -> list[str]:
    lines = [
        f"### {r.id}",
        "",
        f"- **Citation:** {r.citation}",
        f"- **Checked:** {_checks(r.citation)}",
        f"- **Layer:** {_LAYER[r.layer]}" + (f"; reads {_code(r.config, keep_order=True)}" if r.config else ""),
        f"- **Applies in:** {', '.join(s.value for s in r.stages)}; **outcome:** {r.outcome.value}",
        f"- **Decides:** {r.decides}",
        f"- **Reason (da):** {r.da}",
        f"- **Reason (en):** {r.en}",
    ]
    if (q := QUESTIONS.get(r.id)) is not None:
        ages = EXAMPLE_AGREEMENT.ages
        labels = dict(q.offered(ages.ssp_max_age, ages.ssp_plus_max_age))
        answers = "; ".join(f"`{c.value}` ({labels[c.value]}) → {c.rule.id}" for c in q.choices)
        scope = "per recipient" if q.per_recipient else "once per decision"
        lines.append(f"- **Question to staff ({scope}):** {q.da} Answers: {answers}")
    if example is not None:
        lines.append(f"- **Example:** {_example(example, engine)}")
    return [*lines, ""]


def _agreement_keys() -> list[str]:
    """The agreement file's keys, from the model: what the legal team can change."""
    lines = ["## The agreement file", "", "| key | default | meaning |", "|---|---|---|"]

    def default(info: FieldInfo) -> str:
        if info.is_required():
            return "required"
        value = info.get_default(call_default_factory=True)
        if isinstance(value, BaseModel):
            return "see below"
        if isinstance(value, (set, frozenset, tuple, list, dict)):
            return f"{len(value)} entries" if value else "none"
        return "none" if value is None else f"`{value}`"

    for name, info in Agreement.model_fields.items():
        nested = info.annotation
        if not (isinstance(nested, type) and issubclass(nested, BaseModel)):
            lines.append(f"| `{name}` | {default(info)} | {info.description or ''} |")
            continue
        doc = " ".join((nested.__doc__ or "").split())
        for sub, sub_info in nested.model_fields.items():
            meaning = sub_info.description or doc
            lines.append(f"| `{name}.{sub}` | {default(sub_info)} | {meaning} |")
    return [*lines, ""]


def render(agreement: Agreement = EXAMPLE_AGREEMENT) -> str:
    by_rule = {e.rule_id: e for e in examples()}
    out = [
        "# Policies: the law as code",
        "",
        "<!-- Generated by `python -m hub.policies.docgen > docs/policies.md` from hub/policies/rules.py."
        " Do not edit by hand: a test compares this file with the generator. -->",
        "",
        f"Policy version `{POLICY_LABEL}` (release and rule-table hash). Every decision also records the "
        "agreement's name, version and content hash.",
        "",
        "Two layers: the statute is code in `hub/policies/` (each rule below cites its source, and says whether "
        "the citation was checked against the statute text); the local agreement is configuration "
        "(`hub/config/agreement.toml`, checked with `hub policy check`). Rules "
        "whose layer says *with values from the local agreement* apply the statute with an agreement value "
        "(the keys are listed). Partners themselves (which school, which police district, in which "
        "structure) are in the registry, `hub/config/albertslund.toml`; the agreement says which kinds of "
        "partner take part in each structure, within what the statute allows.",
        "",
        "## How a disclosure is decided",
        "",
        "The combining rule, stated once in `hub.policies.decision.combine`: "
        + " ".join((combine.__doc__ or "").split()),
        "",
        "1. Conditions: purpose (RPL115-2), necessity justification (RPL115-4), membership "
        "(RPL115-MEMBER, RPL115-3) and, for departments outside the structures, consent "
        "(RPL115-OUTSIDE*). They withhold or escalate; they never share on their own.",
        "2. Basis: which cooperation covers the person for the structure referred to (RPL115-1-*, "
        "NOPERSON), or valid consent to one of the agreement's consent recipients (CONSENT, a basis of "
        "its own, whatever the structures say). If none does, RPL115-NOMATCH withholds.",
        "3. Fields, only for a share: the recipient kind's allow-list (MIN-FIELDS; on consent alone the "
        "consented fields), narrowed so health stays in PSP (HEALTH-PSP, a local agreement choice), "
        "to the purely private categories the agreement allows the recipient (PRIVATE-CATEGORIES), "
        "to the description only when the decision justifies it (PRIVATE-DESCRIPTION) and to what the "
        "report holds; DBL-11 and DBL-8 record the basis for the CPR number and criminal-offence data. "
        "`hub policy explain` lists what was removed for each recipient, and by which rule.",
        "",
        "4. A person's answer: a rule that escalates asks staff one question (listed with the rule below); "
        "the decide form and `hub triage decide --answer` answer it, with a written reason and its basis, "
        "and the policy decides again with the answer under the answering rule (its id is in the decision, "
        "the referral event and the disclosure log). An answer never overrides a withhold.",
        "",
        "Every decision carries all the rule ids that applied, one citation per rule id, and the reasons "
        "that decided it, in Danish and English.",
        "",
        "## Rules",
        "",
        "| id | citation | checked | layer | outcome |",
        "|---|---|---|---|---|",
        *(f"| [{r.id}](#{r.id.lower()}) | {r.citation} | {_checks(r.citation, short=True)} | {r.layer.value} "
          f"| {r.outcome.value} |"
          for r in RULES.values()),
        "",
        f"Examples are evaluated at {EXAMPLE_NOW.isoformat()} under the example agreement below "
        "(the statute's defaults and the sample allow-lists); the people in them are fake.",
        "",
    ]
    engine = PolicyEngine(agreement)
    for r in RULES.values():
        out.extend(_rule(r, by_rule.get(r.id), engine))
    out += _citation_sources()
    out += _agreement_keys()
    a = agreement
    out += [
        "## The example agreement",
        "",
        f"- SSP: under {a.ages.ssp_max_age}; SSP+: from {a.ages.ssp_max_age} to under {a.ages.ssp_plus_max_age}",
        f"- KSP window: {a.ksp.days_before_release} days before to {a.ksp.days_after_release} days after release",
        *(f"- {s.value.upper()} partner kinds: {_code(k.value for k in a.structures.members(s))}"
          for s in Structure),
        f"- SSP+ partner kinds: {_code(k.value for k in a.structures.members(Structure.SSP, ssp_plus=True))}",
        *(f"- fields for `{k.value}`: {_code(v)}" for k, v in sorted(a.fields.items())),
        f"- departments outside the structures, with consent: {_code(a.departments_with_consent)}",
        f"- minimum justification length: {a.necessity.min_justification_chars} characters",
        f"- extra closed days for the working-day deadlines: {_code(a.working_days.closed_days, keep_order=True)}",
        f"- purely private categories: {_code(c.value for c in a.private_matters.categories)}; allowed "
        "(private categories / description with a reason): "
        + "; ".join(f"{s.value.upper()} `{k.value}`: {_code(c.value for c in v.categories) or 'none'} / "
                    f"{'yes' if v.description else 'no'}"
                    for s, kinds in sorted(a.private_matters.allow.items()) for k, v in sorted(kinds.items())),
        f"- consent: the child's own from {a.consent.child_from_age}; consent recipients: "
        + (", ".join(f"`{k.value}` {_code(v)}" for k, v in sorted(consent_recipients(a).items())) or "none"),
        "- Straffeloven § 141 offences (id: label, sections): "
        + "; ".join(f"`{o.id}`: {o.label} ({', '.join(o.sections)})" for o in a.straffeloven_141.offences),
        "",
    ]
    return "\n".join(out)


if __name__ == "__main__":
    print(render(), end="")  # noqa: T201 - the generator's one output
