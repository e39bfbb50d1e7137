"""The local information-sharing agreement, as a versioned, validated value.

Everything `shared/domain.md` marks as local policy or unconfirmed lives here, not in the
rules: the SSP and SSP+ age bands, the KSP window around release, which partner kinds take
part in each structure (within what Retsplejeloven § 115 allows), the field allow-list per
recipient kind, what departments outside the three structures may get with consent,
the fields of mandatory notifications, the minimum length of a necessity justification,
the Straffeloven § 141 offence list, extra closed days for the working-day deadlines and
retention periods.

Each decision records the agreement's name, version and content hash (`label`). The hash
covers the validated content, so reformatting the file or editing a comment does not
change it; any change to a value does.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hub.policies.deadlines import ClosedDays, closed_day
from hub.policies.facts import STATUTE_MEMBER_KINDS, Recipient, SourceKind
from hub.policies.fields import ALL_FIELDS, HEALTH_FIELDS, NON_PERSONAL_FIELDS, NON_PRIVATE_FIELDS
from hub.policies.rules import POLICY_LABEL
from hub.schemas.decision import Structure
from hub.schemas.events import PlannedOffence
from hub.schemas.report import OFFENCE_ID, Category

__all__ = [
    "ALL_FIELDS",
    "DEFAULT_ALERT_FIELDS",
    "DEFAULT_NOTIFICATION_FIELDS",
    "HEALTH_FIELDS",
    "NON_PERSONAL_FIELDS",
    "NON_PRIVATE_FIELDS",
    "RETENTION_KEYS",
    "AgeBand",
    "Agreement",
    "AgreementCheck",
    "CrossAgency",
    "DeadlineWarnings",
    "Derived",
    "KspWindow",
    "Necessity",
    "NotificationFields",
    "Referrals",
    "Structures",
    "WorkingDaysConf",
    "agreement_label",
    "check_agreement",
    "content_digest",
    "derive",
    "parse_agreement",
    "registry_warnings",
]

# The police get what they need to avert the crime; children's services what they need to act.
DEFAULT_ALERT_FIELDS: frozenset[str] = frozenset(
    {
        "reporter.role",
        "reporter.contact",
        "subject.name",
        "subject.cpr",
        "subject.district",
        "concern.categories",
        "concern.description",
        "concern.observed_at",
        "concern.location",
    }
)
DEFAULT_NOTIFICATION_FIELDS: frozenset[str] = ALL_FIELDS - {"subject.custody"}
# Straffeloven § 141's list as we read the statute (the search corpus held no text of § 141, so
# [unconfirmed] until checked against retsinformation): the sample agreement carries the same list.
DEFAULT_STRFL141_OFFENCES: tuple[PlannedOffence, ...] = tuple(
    PlannedOffence(id=i, label=label, sections=sections)
    for i, label, sections in (
        ("statens-sikkerhed", "forbrydelse mod statens selvstændighed og sikkerhed", ("kapitel 12",)),
        ("statsforfatningen", "forbrydelse mod statsforfatningen og de øverste statsmyndigheder", ("kapitel 13",)),
        ("terror", "terrorisme", ("§ 114",)),
        ("brandstiftelse", "brandstiftelse", ("§ 180",)),
        ("spraengning", "sprængning m.v.", ("§ 183, stk. 1 og 2", "§ 183 a")),
        ("drab", "manddrab", ("§ 237",)),
        ("grov-vold", "grov vold", ("§ 245", "§ 246")),
        ("frihedsberoevelse", "grov frihedsberøvelse", ("§ 261, stk. 2",)),
        ("roeveri", "røveri", ("§ 288",)),
    )
)
RETENTION_KEYS: tuple[str, ...] = ("report", "disclosure_log", "deadletter")


class _Conf(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _unknown_fields(where: str, names: Iterable[str]) -> None:
    unknown = sorted(set(names) - ALL_FIELDS)
    if unknown:
        raise ValueError(f"{where}: ukendte felter {unknown}; kendte felter er {sorted(ALL_FIELDS)}")


class AgeBand(_Conf):
    """SSP and SSP+ age bands (local policy: the statute has no age limit)."""

    ssp_max_age: int = Field(18, ge=1, le=30, description="SSP: persons younger than this")
    ssp_plus_max_age: int = Field(
        25, ge=1, le=35, description="SSP+: young adults from ssp_max_age up to (not incl.) this"
    )

    @model_validator(mode="after")
    def _ordered(self) -> AgeBand:
        if self.ssp_plus_max_age < self.ssp_max_age:
            raise ValueError("ssp_plus_max_age må ikke være mindre end ssp_max_age")
        return self


class KspWindow(_Conf):
    """How long before and after release KSP covers a person (Rpl. § 115, stk. 1, nr. 3)."""

    days_before_release: int = Field(
        90, ge=0, le=730, description="KSP covers a person from this many days before release"
    )
    days_after_release: int = Field(365, ge=0, le=1825, description="... to this many days after release")


class WorkingDaysConf(_Conf):
    """Extra days without work for the working-day deadlines (Barnets lov § 137: the receipt
    within 6 working days), besides weekends and Danish public holidays."""

    closed_days: tuple[str, ...] = Field(
        (),
        description="days the working-day count skips besides weekends and public holidays: "
        "`MM-DD` every year (e.g. `12-24`, `12-31`, `06-05`) or `YYYY-MM-DD` once",
    )

    @field_validator("closed_days", mode="before")
    @classmethod
    def _toml_dates(cls, value: Any) -> Any:
        # A TOML date (`2027-05-07`, unquoted) is one closed day, as its ISO text is.
        if not isinstance(value, (list, tuple)):
            raise ValueError("skal være en liste af datoer, fx [\"12-24\", \"12-31\"]")
        out = []
        for v in value:
            if isinstance(v, date) and not isinstance(v, datetime):
                v = v.isoformat()
            if not isinstance(v, str):
                raise ValueError(f"{v!r} er ikke en dato; skriv MM-DD eller ÅÅÅÅ-MM-DD i anførselstegn")
            out.append(v)
        return tuple(out)

    @field_validator("closed_days")
    @classmethod
    def _dates(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            closed_day(entry)  # raises with a Danish message naming the entry
        if duplicates := sorted({e for e in value if value.count(e) > 1}):
            raise ValueError(f"{duplicates} står mere end én gang")
        return value


class Structures(_Conf):
    """Partner kinds taking part in each structure: the statute's list, or fewer."""

    ssp: frozenset[SourceKind] = Field(
        STATUTE_MEMBER_KINDS[Structure.SSP],
        description="partner kinds in SSP (at most school, social_services, police)",
    )
    ssp_plus: frozenset[SourceKind] | None = Field(
        default=None, description="partner kinds in SSP+ (young adults); unset: the same kinds as ssp"
    )
    psp: frozenset[SourceKind] = Field(
        STATUTE_MEMBER_KINDS[Structure.PSP],
        description="partner kinds in PSP (at most social_services, psychiatry, police)",
    )
    ksp: frozenset[SourceKind] = Field(
        STATUTE_MEMBER_KINDS[Structure.KSP],
        description="partner kinds in KSP (at most prison_probation, social_services, police)",
    )

    @model_validator(mode="after")
    def _within_statute(self) -> Structures:
        checks = (
            ("ssp", self.ssp, Structure.SSP, "nr. 1"),
            ("ssp_plus", self.ssp_plus or frozenset(), Structure.SSP, "nr. 1"),
            ("psp", self.psp, Structure.PSP, "nr. 2"),
            ("ksp", self.ksp, Structure.KSP, "nr. 3"),
        )
        for key, kinds, structure, nr in checks:
            extra = sorted(k.value for k in kinds - STATUTE_MEMBER_KINDS[structure])
            if extra:
                allowed = sorted(k.value for k in STATUTE_MEMBER_KINDS[structure])
                raise ValueError(
                    f"{key}: {extra} deltager ikke i {structure.value.upper()} efter "
                    f"retsplejelovens § 115, stk. 1, {nr}; tilladt er {allowed}"
                )
        return self

    def members(self, structure: Structure, ssp_plus: bool = False) -> frozenset[SourceKind]:
        if structure is Structure.SSP:
            return self.ssp_plus if ssp_plus and self.ssp_plus is not None else self.ssp
        return self.psp if structure is Structure.PSP else self.ksp


class NotificationFields(_Conf):
    """What a mandatory notification carries (data minimisation for alerts and notifications)."""

    police_alert: frozenset[str] = Field(
        DEFAULT_ALERT_FIELDS, description="what a Straffeloven § 141 police alert carries"
    )
    children_notification: frozenset[str] = Field(
        DEFAULT_NOTIFICATION_FIELDS, description="what a Barnets lov § 133 notification to children's services carries"
    )

    @model_validator(mode="after")
    def _known(self) -> NotificationFields:
        _unknown_fields("police_alert", self.police_alert)
        _unknown_fields("children_notification", self.children_notification)
        return self


class Necessity(_Conf):
    """Rpl. § 115, stk. 1 and 2 (only where necessary): what counts as a necessity justification."""

    min_justification_chars: int = Field(
        1, ge=1, le=500, description="a necessity justification shorter than this counts as none (Rpl. § 115, stk. 1-2)"
    )


class Strfl141(_Conf):
    offences: tuple[PlannedOffence, ...] = Field(
        DEFAULT_STRFL141_OFFENCES,
        description="the closed list of offences the duty to avert covers: id, Danish label, straffelov sections",
    )
    acknowledge_within_minutes: int = Field(
        15,
        ge=1,
        le=1440,
        description="minutes the police have to acknowledge an alert (`alert.acknowledged`) before it is sent "
        "again and escalated to DKE (local choice)",
    )

    @field_validator("offences")
    @classmethod
    def _unique(cls, value: tuple[PlannedOffence, ...]) -> tuple[PlannedOffence, ...]:
        ids = [o.id for o in value]
        if dupes := sorted({i for i in ids if ids.count(i) > 1}):
            raise ValueError(f"samme id flere gange: {dupes}")
        if bad := sorted(o.id for o in value if not re.match(OFFENCE_ID, o.id) or len(o.id) > 40):
            raise ValueError(f"ugyldige id'er {bad}: små bogstaver, tal og bindestreg, højst 40 tegn")
        if empty := sorted(o.id for o in value if not o.sections or not o.label):
            raise ValueError(f"{empty}: hver forbrydelse skal have en betegnelse og mindst én paragraf")
        return value


# Purely private matters among the categories: health and substance misuse by default.
DEFAULT_PRIVATE_CATEGORIES: frozenset[Category] = frozenset({Category.MENTAL_HEALTH, Category.SUBSTANCE_MISUSE})


class PrivateAllow(_Conf):
    """What of the purely private matters one kind of recipient may get in one structure."""

    categories: frozenset[Category] = Field(frozenset(), description="private categories it may get")
    description: bool = Field(False, description="the description, when the decision justifies it")


def _default_private_allow() -> dict[Structure, dict[SourceKind, PrivateAllow]]:
    # Default: private categories only to PSP participants in PSP; the description (with its own
    # justification) to every participant whose allow-list has it.
    return {
        s: {
            k: PrivateAllow(categories=DEFAULT_PRIVATE_CATEGORIES if s is Structure.PSP else frozenset(),
                            description=True)
            for k in STATUTE_MEMBER_KINDS[s]
        }
        for s in Structure
    }


class PrivateMatters(_Conf):
    """Purely private matters ("rent private forhold") beyond the health fields: which categories
    are such matters, and per structure and recipient kind which may go, and the description."""

    categories: frozenset[Category] = Field(
        DEFAULT_PRIVATE_CATEGORIES, description="categories that are purely private matters"
    )
    allow: dict[Structure, dict[SourceKind, PrivateAllow]] = Field(
        default_factory=_default_private_allow,
        description="per structure and recipient kind: private categories and whether the description may go",
    )


class ConsentRules(_Conf):
    """Consent as a basis of its own (local agreement): who may receive with it, and from what
    age a child's own consent is needed besides the custody holders'."""

    child_from_age: int = Field(15, ge=12, le=18, description="from this age the child's own consent is needed too")
    recipients: dict[SourceKind, frozenset[str]] = Field(
        default_factory=dict,
        description="recipient kinds that may receive with consent, and the fields (municipal_department: "
        "departments_with_consent)",
    )

    @model_validator(mode="after")
    def _known(self) -> ConsentRules:
        for kind, names in self.recipients.items():
            _unknown_fields(f"consent.recipients.{kind.value}", names)
            if health := sorted(names & HEALTH_FIELDS):
                raise ValueError(
                    f"consent.recipients.{kind.value}: {health} er helbredsoplysninger, som ikke forlader PSP"
                )
        return self


class DeadlineWarnings(_Conf):
    """How long before a statutory deadline DKE gets `deadline.approaching` (local choice)."""

    assessment_hours: int = Field(
        4, ge=0, le=23, description="hours before the 24-hour assessment deadline that DKE is warned"
    )
    receipt_hours: int = Field(
        24, ge=0, le=144, description="hours before the 6-working-day receipt deadline that DKE is warned"
    )


class Referrals(_Conf):
    """How long a partner has to acknowledge a referral (`referral.received` or a later state)
    before DKE gets `referral.overdue` (local choice)."""

    acknowledge_within_hours: int = Field(
        48, ge=1, le=720, description="hours a partner has to acknowledge a referral before DKE is told"
    )


class CrossAgency(_Conf):
    """The cross-agency pattern alert (`hub.policies.patterns`, local practice)."""

    window_days: int = Field(
        30, ge=1, le=365, description="flag a report when another agency reported the same person within this many days"
    )


@dataclass(frozen=True, slots=True)
class Derived:
    """Per-agreement values the hot path reads, computed once when a policy engine is made
    (`derive`). Immutable: the engine's memo tables live in the engine, not here."""

    digest: str
    policy_version: str
    members: Mapping[tuple[Structure, bool], frozenset[SourceKind]]
    before_release: timedelta
    after_release: timedelta
    closed: ClosedDays  # `working_days.closed_days`, parsed
    # Agreement values the disclosure rules read for every request, copied out of the pydantic
    # models (whose attributes are several times slower to read): `ages.*` and `necessity.*`.
    ssp_max_age: int
    ssp_plus_max_age: int
    min_justification_chars: int
    # The § 141 list by id; the consent recipients' fields by kind (departments included).
    offences: Mapping[str, PlannedOffence]
    consent_fields: Mapping[SourceKind, frozenset[str]]
    child_from_age: int


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(_canonical(k)): _canonical(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted(_canonical(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    return value


class Agreement(_Conf):
    """A parsed agreement file. `version` is the file's own; `digest` its content hash."""

    name: str = Field(min_length=1, max_length=80, description="the agreement's name")
    version: str = Field(min_length=1, max_length=40, description="change it with every change of the file")
    ages: AgeBand = AgeBand()
    ksp: KspWindow = KspWindow()
    working_days: WorkingDaysConf = WorkingDaysConf()
    structures: Structures = Structures()
    fields: dict[SourceKind, frozenset[str]] = Field(
        description="allow-list of fields per recipient kind (police, social_services, ...)"
    )
    departments_with_consent: frozenset[str] = Field(
        default=frozenset(),
        description="fields a municipal department outside SSP/PSP/KSP may get, with consent only",
    )
    notification_fields: NotificationFields = NotificationFields()
    necessity: Necessity = Necessity()
    straffeloven_141: Strfl141 = Strfl141()
    private_matters: PrivateMatters = PrivateMatters()
    consent: ConsentRules = ConsentRules()
    deadline_warnings: DeadlineWarnings = DeadlineWarnings()
    referrals: Referrals = Referrals()
    cross_agency: CrossAgency = CrossAgency()
    retention_days: dict[str, Annotated[int, Field(ge=1, le=36500)]] = Field(
        description="days to keep each kind of record (report, disclosure_log, deadletter; optional outbox)"
    )

    @field_validator("fields")
    @classmethod
    def _allow_lists(cls, value: dict[SourceKind, frozenset[str]]) -> dict[SourceKind, frozenset[str]]:
        problems = []
        for kind, names in value.items():
            if kind is SourceKind.MUNICIPAL_DEPARTMENT:
                problems.append(
                    "municipal_department: forvaltninger uden for SSP/PSP/KSP styres af "
                    "departments_with_consent (kun med samtykke)"
                )
            elif unknown := sorted(set(names) - ALL_FIELDS):
                problems.append(f"{kind.value}: ukendte felter {unknown}")
        if problems:
            raise ValueError("; ".join(problems) + f" (kendte felter er {sorted(ALL_FIELDS)})")
        return value

    @field_validator("retention_days")
    @classmethod
    def _retention(cls, value: dict[str, int]) -> dict[str, int]:
        # The retention job needs a period for each kind of record it erases.
        if missing := [k for k in RETENTION_KEYS if k not in value]:
            raise ValueError(f"mangler slettefrist for {missing}")
        if unknown := sorted(set(value) - set(RETENTION_KEYS) - {"outbox"}):
            raise ValueError(f"ukendte nøgler {unknown}; kendte er {[*RETENTION_KEYS, 'outbox']}")
        return value

    @field_validator("departments_with_consent")
    @classmethod
    def _departments(cls, value: frozenset[str]) -> frozenset[str]:
        _unknown_fields("departments_with_consent", value)
        if health := sorted(value & HEALTH_FIELDS):
            raise ValueError(f"{health} er helbredsoplysninger, som ikke forlader PSP")
        return value

    def __hash__(self) -> int:
        return hash(self.digest)

    @property
    def digest(self) -> str:
        """SHA-256 of the validated content (not of the file's bytes). Computed on each call:
        the policy engine computes it once and keeps it (`PolicyEngine.policy_version`)."""
        return content_digest(self)

    @property
    def label(self) -> str:
        return agreement_label(self, self.digest)

    @property
    def policy_version(self) -> str:
        """What every decision records: the policy's release and hash, and this agreement's."""
        return f"{POLICY_LABEL}+{self.label}"


def content_digest(agreement: Agreement) -> str:
    content = json.dumps(_canonical(agreement.model_dump()), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(content.encode()).hexdigest()


def agreement_label(agreement: Agreement, digest: str) -> str:
    return f"{agreement.name}@{agreement.version}#{digest[:12]}"


def derive(agreement: Agreement) -> Derived:
    """The agreement's derived values (a pure function: the policy engine calls it once)."""
    digest = content_digest(agreement)
    return Derived(
        digest=digest,
        policy_version=f"{POLICY_LABEL}+{agreement_label(agreement, digest)}",
        members=MappingProxyType(
            {(s, plus): agreement.structures.members(s, plus) for s in Structure for plus in (False, True)}
        ),
        before_release=timedelta(days=agreement.ksp.days_before_release),
        after_release=timedelta(days=agreement.ksp.days_after_release),
        closed=ClosedDays.parse(agreement.working_days.closed_days),
        ssp_max_age=agreement.ages.ssp_max_age,
        ssp_plus_max_age=agreement.ages.ssp_plus_max_age,
        min_justification_chars=agreement.necessity.min_justification_chars,
        offences=MappingProxyType({o.id: o for o in agreement.straffeloven_141.offences}),
        consent_fields=MappingProxyType(consent_recipients(agreement)),
        child_from_age=agreement.consent.child_from_age,
    )


def consent_recipients(agreement: Agreement) -> dict[SourceKind, frozenset[str]]:
    """The recipient kinds that may receive with consent, and their fields: `consent.recipients`,
    and municipal departments with `departments_with_consent` unless that names them."""
    out = dict(agreement.consent.recipients)
    if agreement.departments_with_consent:
        out.setdefault(SourceKind.MUNICIPAL_DEPARTMENT, agreement.departments_with_consent)
    return out


def parse_agreement(text: str) -> Agreement:
    """Parse and validate agreement TOML. Raises `tomllib.TOMLDecodeError` or
    `pydantic.ValidationError`; `check_agreement` turns both into readable messages."""
    return Agreement.model_validate(tomllib.loads(text))


@dataclass(frozen=True, slots=True)
class AgreementCheck:
    agreement: Agreement | None
    errors: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.errors


def _validation_messages(exc: ValidationError) -> tuple[str, ...]:
    out = []
    for err in exc.errors(include_url=False, include_context=False, include_input=False):
        parts = [str(p) for p in err["loc"]]
        msg = str(err["msg"]).removeprefix("Value error, ")
        if parts and parts[-1] == "[key]":  # a dict key that is not a known kind
            parts.pop()
            msg = f"ukendt nøgle '{parts.pop()}': {msg}"
        loc = ".".join(parts) or "(filen)"
        out.append(f"{loc}: {msg}")
    return tuple(out)


def _warnings(a: Agreement) -> tuple[str, ...]:
    out: list[str] = []
    member_kinds = {k for s in Structure for k in a.structures.members(s)} | (a.structures.ssp_plus or set())
    for kind, names in sorted(a.fields.items()):
        if kind not in member_kinds:
            out.append(f"fields.{kind.value}: typen deltager ikke i SSP, PSP eller KSP; listen bruges aldrig")
        elif names & HEALTH_FIELDS and kind not in a.structures.psp:
            out.append(
                f"fields.{kind.value}: {sorted(names & HEALTH_FIELDS)} fjernes altid, fordi typen "
                "ikke deltager i PSP (HEALTH-PSP)"
            )
    for kind in sorted(member_kinds - set(a.fields)):
        out.append(f"fields: {kind.value} deltager i et samarbejde, men har ingen feltliste og får intet")
    for s, allowed in sorted(a.private_matters.allow.items()):
        members = a.structures.members(s) | (a.structures.members(s, ssp_plus=True) if s is Structure.SSP else set())
        for kind, allow in sorted(allowed.items()):
            where = f"private_matters.allow.{s.value}.{kind.value}"
            if kind not in members:
                out.append(f"{where}: typen deltager ikke i {s.value.upper()}; indstillingen bruges aldrig")
            elif allow.categories and s is not Structure.PSP:
                out.append(
                    f"{where}: {sorted(c.value for c in allow.categories)} er rent private forhold, som deles "
                    "uden for PSP; sikr jer, at det er nødvendigt"
                )
    if a.ages.ssp_plus_max_age == a.ages.ssp_max_age:
        out.append("ages: ssp_plus_max_age er lig ssp_max_age, så SSP+ er slået fra")
    if a.necessity.min_justification_chars < 10:
        out.append(
            f"necessity.min_justification_chars er {a.necessity.min_justification_chars}; "
            "en meget kort begrundelse er sjældent en konkret nødvendighedsvurdering"
        )
    return tuple(out)


def check_agreement(text: str) -> AgreementCheck:
    """Validate agreement TOML: errors make it unusable, warnings are worth a look."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return AgreementCheck(None, (f"TOML-fejl: {exc}",), ())
    try:
        agreement = Agreement.model_validate(raw)
    except ValidationError as exc:
        return AgreementCheck(None, _validation_messages(exc), ())
    return AgreementCheck(agreement, (), _warnings(agreement))


def registry_warnings(agreement: Agreement, partners: Iterable[Recipient]) -> tuple[str, ...]:
    """Partners the registry places in a structure that the agreement (or the statute) would
    never let receive there: every referral to them would be withheld."""
    out = []
    for p in partners:
        if p.kind is SourceKind.MUNICIPAL_DEPARTMENT:
            continue
        for s in sorted(p.structures):
            kinds = agreement.structures.members(s) | (
                agreement.structures.members(s, ssp_plus=True) if s is Structure.SSP else frozenset()
            )
            if p.kind not in kinds:
                out.append(
                    f"partner {p.partner_id} ({p.kind.value}) står i registeret under "
                    f"{s.value.upper()}, men typen deltager ikke efter aftalen; alt til den tilbageholdes"
                )
    return tuple(out)
