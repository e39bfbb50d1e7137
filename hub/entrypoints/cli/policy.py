"""`hub policy`: the law as code, for the people who answer for it.

- `explain` shows what the policies decide about a report: the assessment and a disclosure
  decision for every partner and structure in the registry, with reasons and citations.
- `check` validates an agreement file and says clearly what is wrong.
- `simulate` re-decides the stored referrals under a new agreement and lists what would change.

Output for people is Danish (triage staff and the legal team read it); `--json` is for machines.
The logic lives in `hub.policies` (pure) and `hub.services.simulate`; this module reads files and the
database, and renders.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError, ProgrammingError

from hub.config.registry import Registry, default_agreement_path, default_registry_path, load_registry
from hub.entrypoints import labels as da
from hub.policies import Agreement, Effect, PolicyEngine, SourceFacts, SourceKind, WorkingDays, check_agreement
from hub.policies.agreement import registry_warnings
from hub.policies.citations import statuses
from hub.policies.explain import Explanation, Target, explain, explanation_json
from hub.policies.fields import FIELD_LABELS_DA
from hub.policies.rules import RULES
from hub.schemas.dates import danish_time
from hub.schemas.report import ConcernReport, Purpose
from hub.services.simulate import SimulationResult, load_referrals, resimulate, summarise

app = typer.Typer(
    help="Lovens regler som kode: forklar afgørelser, tjek aftalen og simulér ændringer.",
    no_args_is_help=True, pretty_exceptions_show_locals=False,
)

EFFECT_DA = {"share": "DELES", "withhold": "TILBAGEHOLDES", "escalate": "KRÆVER STILLINGTAGEN"}
PURPOSE_DA = {"crime_prevention": "kriminalitetsforebyggelse", "investigation": "efterforskning"}

JsonOpt = Annotated[bool, typer.Option("--json", help="Maskinlæsbart output (JSON).")]
AgreementOpt = Annotated[
    Path | None, typer.Option("--agreement", help="Aftalefil (standard: HUB_AGREEMENT_FILE eller den medfølgende).")
]
RegistryOpt = Annotated[
    Path | None, typer.Option("--registry", help="Partnerregister (standard: HUB_REGISTRY_FILE eller det medfølgende).")
]
NowOpt = Annotated[
    str | None, typer.Option("--now", help="Tidspunkt (ISO 8601; uden tidszone: dansk tid). Standard: nu.")
]


def fail(message: str) -> NoReturn:
    typer.echo(f"Fejl: {message}", err=True)
    raise typer.Exit(1)


# --- reading inputs ---------------------------------------------------------------------------

def _configured(attr: str, fallback: Path) -> Path:
    """A path from the settings (HUB_* environment), or the packaged default."""
    from hub.bootstrap import load_settings

    try:
        value = getattr(load_settings(), attr)
    except ValidationError:
        return fallback
    return value if isinstance(value, Path) else fallback


def read_agreement(path: Path | None) -> Agreement:
    path = path or _configured("agreement_file", default_agreement_path())
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"kan ikke læse aftalefilen {path}: {exc.strerror or exc}")
    result = check_agreement(text)
    if result.agreement is None:
        fail(f"aftalefilen {path} er ikke gyldig:\n  " + "\n  ".join(result.errors)
             + f"\nKør: hub policy check {path}")
    return result.agreement


def read_registry(path: Path | None) -> Registry:
    path = path or _configured("registry_file", default_registry_path())
    try:
        return load_registry(path)
    except OSError as exc:
        fail(f"kan ikke læse partnerregisteret {path}: {exc.strerror or exc}")
    except ValidationError as exc:
        fail(f"partnerregisteret {path} er ikke gyldigt ({exc.error_count()} fejl)")


def parse_now(text: str | None) -> datetime:
    """`--now`: ISO 8601; a time without a zone is Danish time. Default: the current time."""
    if text is None:
        return datetime.now(danish_time())
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail(f"--now skal være et tidspunkt i ISO 8601, fx 2026-11-20T10:00+01:00 (fik {text!r})")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=danish_time())


def read_report(path: Path) -> tuple[ConcernReport, str | None]:
    """The report in FILE: a report's data, or a whole CloudEvent (then also its source)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        fail(f"kan ikke læse {path}: {exc.strerror or exc}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        fail(f"{path} er ikke gyldig JSON ({exc})")
    source: str | None = None
    if isinstance(doc, dict) and "specversion" in doc and "data" in doc:
        source = doc.get("source") if isinstance(doc.get("source"), str) else None
        doc = doc["data"]
    try:
        return ConcernReport.model_validate(doc), source
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in err['loc']) or '(hele henvendelsen)'}: {err['msg']}"
            for err in exc.errors(include_input=False, include_url=False, include_context=False)
        ]
        fail("henvendelsen er ikke gyldig:\n  " + "\n  ".join(problems))


def targets(registry: Registry) -> list[Target]:
    return [Target(name=p.name, recipient=p.recipient) for p in registry.partners]


# --- rendering ---------------------------------------------------------------------------------

def _when(moment: datetime) -> str:
    return moment.astimezone(danish_time()).strftime("%Y-%m-%d %H:%M")


def _closed_days(entries: tuple[str, ...]) -> str:
    """The agreement's closed days in Danish: `12-24` as 24.12. (every year), a date as 07.05.2027."""
    out = []
    for entry in entries:
        parts = entry.split("-")
        out.append(f"{parts[1]}.{parts[0]}." if len(parts) == 2 else f"{parts[2]}.{parts[1]}.{parts[0]}")
    return ", ".join(out) if out else "ingen"


def _fields(names: frozenset[str] | tuple[str, ...]) -> str:
    return ", ".join(FIELD_LABELS_DA.get(n, n) for n in sorted(names)) or "ingen"


def _reason_lines(rule_ids: tuple[str, ...], indent: str) -> list[str]:
    lines = []
    for rid in rule_ids:
        r = RULES[rid]
        note = " (henvisningen er ikke bekræftet mod lovteksten)" if "unconfirmed" in statuses(r.citation) else ""
        lines.append(f"{indent}[{rid}] {r.citation}{note}")
        lines.append(f"{indent}    {r.da}")
    return lines


def render_explanation(e: Explanation) -> str:
    """The explanation in Danish, for a person."""
    a = e.assessment
    out = [
        "Forklaring af en bekymringshenvendelse",
        f"Politikversion: {e.policy_version}",
        f"Tidspunkt: {_when(e.now)} (dansk tid)   Kilde: {e.source.source_id} ({e.source.kind.value})",
        f"Formål: {PURPOSE_DA.get(e.purpose.value, e.purpose.value)}",
        f"Begrundelse for nødvendighed: {e.justification}",
        "",
        "VURDERING",
    ]
    if not a.accepted:
        out.append("  Henvendelsen afvises.")
    else:
        level = da.label(da.LEVEL, a.suggested_level) if a.suggested_level else "intet (ingen person)"
        out += [
            f"  Kø: {da.label(da.QUEUE, a.queue.value if a.queue else None)}",
            f"  Foreslået niveau: {level}",
            f"  Søjle: {da.label(da.PILLAR, a.suggested_pillar)}",
        ]
        if a.notifications:
            out.append("  Pligtige underretninger:")
            for n, fields in zip(a.notifications, e.notification_fields, strict=True):
                out.append(f"    - {da.label(da.NOTIFICATION, n.kind.value)}: grundlag {', '.join(n.grounds)}")
                out.append(f"      Felter: {_fields(fields)}")
                if n.offence is not None:
                    sections = ", ".join(n.offence.sections)
                    out.append(f"      Planlagt forbrydelse: {n.offence.label} (straffeloven {sections})")
                if n.informed is not None:
                    told = [w for w, yes in (("forældremyndighedens indehavere", n.informed.custody_holders),
                                             ("barnet (fyldt 15 år)", n.informed.child)) if yes]
                    out.append(f"      Orienteres: {', '.join(told) or 'ingen'}. {n.informed.reason_da}")
        else:
            out.append("  Pligtige underretninger: ingen")
        if a.assess_by:
            out.append(f"  Frist for kommunens vurdering: {_when(a.assess_by)}")
        if a.receipt_due_by:
            out.append(f"  Frist for kvittering til indberetter: {_when(a.receipt_due_by)} "
                       f"(6 hverdage; lukkedage efter aftalen: {_closed_days(e.closed_days)})")
    out.append("  Begrundelser:")
    out += _reason_lines(tuple(r.rule_id for r in a.reasons), "    ")
    if e.strfl141_offences:
        out += ["", "FORBRYDELSER EFTER STRAFFELOVENS § 141 (aftalens liste)"]
        out += [f"  {o.id}: {o.label} ({', '.join(o.sections)})" for o in e.strfl141_offences]
    out += ["", "VIDEREGIVELSE (for hver partner og hvert samarbejde i registeret)"]
    for t, structure, d in e.disclosures:
        out.append(
            f"  {t.name} ({t.recipient.partner_id}) i {da.label(da.STRUCTURE, structure.value)}: "
            f"{EFFECT_DA[d.effect.value]}"
        )
        if d.effect is Effect.SHARE:
            out.append(f"    Felter: {_fields(d.fields)}")
            for item, rid in d.removed:
                field_name, _, category = item.partition(":")
                what = f"kategorien {category}" if category else FIELD_LABELS_DA.get(field_name, field_name)
                out.append(f"    Fjernet: {what} [{rid}] {RULES[rid].da}")
        out += _reason_lines(tuple(r.rule_id for r in d.reasons), "    ")
        out.append(f"    Regler: {', '.join(d.rule_ids)}")
    return "\n".join(out)


def render_simulation(result: SimulationResult) -> str:
    out = [
        f"{result.total} henvisninger genberegnet under {result.policy_version}.",
        f"{len(result.changes)} ville blive afgjort anderledes." if result.changes
        else "Ingen ville blive afgjort anderledes.",
    ]
    for key, count in summarise(result.changes).items():
        out.append(f"  {key}: {count}")
    for c in result.changes:
        s = c.stored
        where = da.label(da.STRUCTURE, s.structure)
        if c.problem:
            out.append(f"- {s.report_ref} til {s.partner_id} i {where}: kan ikke genberegnes: {c.problem}")
            continue
        line = f"- {s.report_ref} til {s.partner_id} i {where} ({_when(s.decided_at)}): "
        line += f"{EFFECT_DA[s.effect]} -> {EFFECT_DA[c.effect or 'withhold']}"
        out.append(line)
        if c.added:
            out.append(f"    nye felter: {_fields(c.added)}")
        if c.removed:
            out.append(f"    felter der ikke længere deles: {_fields(c.removed)}")
        out.append(f"    regler nu: {', '.join(c.rule_ids)}")
    return "\n".join(out)


def simulation_json(result: SimulationResult) -> dict[str, Any]:
    return {
        "total": result.total,
        "policy_version": result.policy_version,
        "summary": summarise(result.changes),
        "changes": [
            {
                "referral_ref": c.stored.ref, "report_ref": c.stored.report_ref, "partner_id": c.stored.partner_id,
                "structure": c.stored.structure, "decided_at": c.stored.decided_at.isoformat(),
                "stored": {"effect": c.stored.effect, "fields": list(c.stored.fields),
                           "rule_ids": list(c.stored.rule_ids), "policy_version": c.stored.policy_version},
                "new": {"effect": c.effect, "fields": list(c.fields), "rule_ids": list(c.rule_ids)},
                "added": list(c.added), "removed": list(c.removed), "problem": c.problem,
            }
            for c in result.changes
        ],
    }


# --- commands ----------------------------------------------------------------------------------

@app.command("explain")
def explain_cmd(
    file: Annotated[Path, typer.Argument(help="Henvendelsen: data fra concern.reported, eller hele CloudEvent'en.")],
    as_json: JsonOpt = False,
    source: Annotated[str | None, typer.Option("--source", help="Kildens id i registeret.")] = None,
    agreement: AgreementOpt = None,
    registry: RegistryOpt = None,
    now: NowOpt = None,
    justification: Annotated[
        str | None, typer.Option("--justification", help="Begrundelse for nødvendighed (standard: antaget).")
    ] = None,
    description_reason: Annotated[
        str,
        typer.Option("--description-reason",
                     help="Begrundelse for at dele selve fritekstbeskrivelsen (standard: ingen, så den deles ikke)."),
    ] = "",
) -> None:
    """Forklar hvad reglerne afgør om en henvendelse: vurdering og videregivelse til hver partner."""
    report, event_source = read_report(file)
    reg = read_registry(registry)
    source_id = source or event_source
    if source_id is None:
        facts = SourceFacts(source_id="(ingen kilde angivet)", kind=SourceKind.OTHER)
    elif (known := reg.source(source_id)) is None:
        fail(f"kilden {source_id!r} findes ikke i registeret; kendte kilder: {', '.join(s.id for s in reg.sources)}")
    else:
        facts = known.facts
    moment = parse_now(now)
    policy = PolicyEngine(read_agreement(agreement), WorkingDays(years=(moment.year,)))
    result = explain(policy, report, facts, targets(reg), moment,
                     justification=justification, purpose=Purpose(report.purpose),
                     description_justification=description_reason)
    if as_json:
        typer.echo(json.dumps(explanation_json(result), ensure_ascii=False, indent=2))
    else:
        typer.echo(render_explanation(result))


@app.command("check")
def check_cmd(
    agreement_file: Annotated[Path, typer.Argument(help="Aftalefilen (TOML) der skal tjekkes.")],
    registry: RegistryOpt = None,
) -> None:
    """Tjek en aftalefil: fejl gør den ubrugelig (exit 1), advarsler er værd at se på."""
    try:
        text = agreement_file.read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"kan ikke læse {agreement_file}: {exc.strerror or exc}")
    result = check_agreement(text)
    if result.agreement is None:
        typer.echo(f"Aftalen i {agreement_file} er IKKE gyldig:", err=True)
        for error in result.errors:
            typer.echo(f"  - {error}", err=True)
        raise typer.Exit(1)
    a = result.agreement
    warnings = list(result.warnings)
    warnings += registry_warnings(a, (p.recipient for p in read_registry(registry).partners))
    typer.echo(f"Aftalen er gyldig: {a.name} version {a.version} (indholds-hash {a.digest[:12]})")
    typer.echo(f"  SSP under {a.ages.ssp_max_age} år; SSP+ fra {a.ages.ssp_max_age} til under "
               f"{a.ages.ssp_plus_max_age} år")
    typer.echo(f"  KSP: fra {a.ksp.days_before_release} dage før til {a.ksp.days_after_release} dage efter løsladelse")
    typer.echo(f"  Mindste længde på begrundelse: {a.necessity.min_justification_chars} tegn")
    typer.echo(f"  Lukkedage ud over weekender og helligdage: {_closed_days(a.working_days.closed_days)}")
    if warnings:
        typer.echo("Advarsler:")
        for w in warnings:
            typer.echo(f"  - {w}")


@app.command("simulate")
def simulate_cmd(
    agreement: Annotated[Path, typer.Option("--agreement", help="Den nye aftalefil.")],
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="Database (standard: HUB_DATABASE_URL eller SQLite).")
    ] = None,
    registry: RegistryOpt = None,
    now: Annotated[
        str | None, typer.Option("--now", help="Afgør alle på dette tidspunkt i stedet for da de blev afgjort.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Genberegn de gemte henvisninger under en ny aftale og vis, hvad der ville ændre sig."""
    from hub.bootstrap import load_settings
    from hub.store.db import make_engine

    new = read_agreement(agreement)
    reg = read_registry(registry)
    if database_url is None:
        try:
            database_url = load_settings().effective_database_url
        except ValidationError as exc:
            fail(f"indstillingerne (HUB_*) er ikke gyldige ({exc.error_count()} fejl); angiv --database-url")
    url = database_url
    engine = make_engine(url)
    try:
        stored = load_referrals(engine)
    except (OperationalError, ProgrammingError):
        fail("databasen kan ikke læses eller har ingen tabeller endnu (kør 'hub db upgrade')")
    finally:
        engine.dispose()
    result = resimulate(stored, reg, PolicyEngine(new), parse_now(now) if now else None)
    if as_json:
        typer.echo(json.dumps(simulation_json(result), ensure_ascii=False, indent=2))
    else:
        typer.echo(render_simulation(result))
