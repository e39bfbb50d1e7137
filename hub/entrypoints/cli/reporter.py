"""`hub triage receipt` and `hub triage feedback`: the reporter hears back (Barnets lov § 137).

Each writes a staff action to `hub.decisions.v1` and waits for the outcome like `hub triage
decide`: exit 0 when the message to the reporter is stored, 1 when the hub refuses it (the
Danish reason), 3 when no outcome came within `--wait`, 2 for bad arguments."""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError

from hub.entrypoints import labels as da
from hub.entrypoints.cli.context import opened
from hub.entrypoints.outcome import Pending, Refused
from hub.entrypoints.reply import Action, send_and_wait_sync
from hub.policies.reporter import FEEDBACK_LABELS_DA
from hub.schemas.reporter import AcknowledgementRequest, FeedbackOutcome, FeedbackRequest

FEEDBACK: dict[str, str] = {o.value: text for o, text in FEEDBACK_LABELS_DA.items()}  # Danish labels
WaitOpt = Annotated[float, typer.Option(help="Seconds to wait for the outcome (0: do not wait)")]
ByOpt = Annotated[str, typer.Option("--by", help="Your initials or staff id")]


def _stop(message: str, code: int = 2) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def _send(report_ref: str, build: type[Action], wait: float, **values: object) -> None:
    try:
        action = build.model_validate({"report_ref": report_ref, **values})
    except ValidationError as exc:
        problem = exc.errors()[0]
        _stop(f"Ugyldig handling: {'.'.join(map(str, problem['loc']))}: {problem['msg']}.")
    with opened() as container:
        source = sorted(container.registry.decision_sources)[0]
        outcome = send_and_wait_sync(container.redis(), container.engine, source, action, max(wait, 0.0))
    if isinstance(outcome, Refused):
        _stop(f"Afvist af hubben ({outcome.code}): {outcome.message_da}", 1)
    if isinstance(outcome, Pending):
        typer.echo(
            f"Sendt ({outcome.event_id}), men hubben har ikke svaret endnu. "
            f"Se resultatet med `hub triage show {report_ref}`."
        )
        raise typer.Exit(0 if wait <= 0 else 3)
    what = "Kvittering" if outcome.kind == "acknowledgement" else "Tilbagemelding"
    detail = f": {da.label(FEEDBACK, outcome.outcome)}" if outcome.outcome else ""
    typer.echo(f"{what} sendt til indberetteren {da.when(outcome.sent_at)}{detail}.")


def register(app: typer.Typer) -> None:
    """Mount the commands on `hub triage`."""

    @app.command("receipt")
    def triage_receipt(report_ref: str, sent_by: ByOpt, wait: WaitOpt = 15.0) -> None:
        """Send the kvittering to the reporter (`acknowledgement.requested`): the 6-working-day
        receipt clock of a professional notifier is met. Exit 1 if refused (e.g. already sent),
        3 if no outcome within `--wait`."""
        _send(report_ref, AcknowledgementRequest, wait, requested_by=sent_by)

    @app.command("feedback")
    def triage_feedback(
        report_ref: str,
        outcome: Annotated[FeedbackOutcome, typer.Option(help="investigation, measures, referred or no_action")],
        sent_by: ByOpt,
        wait: WaitOpt = 15.0,
    ) -> None:
        """Tell a professional reporter whether the concern led to an investigation or measures
        (`feedback.requested`); never which measures. Exit 1 if refused (a private reporter, or
        the report is not decided yet), 3 if no outcome within `--wait`."""
        _send(report_ref, FeedbackRequest, wait, requested_by=sent_by, outcome=outcome.value)
