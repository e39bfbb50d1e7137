"""Speed of the policies: assess + disclose decisions per second on one core.

Run from the repository root:  python -m bench.policy_bench [--reports N] [--repeat R] [--pin CPU]

The corpus is generated (obviously fake, deterministic): reports of every shape the rules
care about (children and adults, area observations, custody and release, psychiatry,
consent, investigation). Each report object is distinct, and every report gets its own
receipt time, so nothing is served from a cache that production would not hit. Rates are
per CPU second of the (single-threaded) benchmark process. Workloads, each timed `repeat`
times after a warm-up (best and median shown):

- assess: one `assess` per report;
- disclose: `disclose` to every partner/structure in the registry (requests built beforehand);
- hub mix: per report one `assess` and `disclose` to three partners/structures (the headline
  figure), and the same again building each `Request` inside the loop, as the decision worker does.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from hub.config.registry import default_agreement_path, default_registry_path, load_agreement, load_registry
from hub.policies import Agreement, PolicyEngine, Request, WorkingDays
from hub.policies.facts import Recipient, SourceFacts, SourceKind
from hub.schemas.cpr import make_cpr
from hub.schemas.decision import Structure
from hub.schemas.report import Category, ConcernReport, Purpose

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
JUSTIFICATION = "Nødvendigt for en koordineret indsats omkring personen (bench)."
CATEGORIES = list(Category)


def _born(rng: random.Random, years: int) -> date:
    return (NOW - timedelta(days=365 * years + rng.randrange(1, 360))).date()


def make_report(rng: random.Random, i: int) -> ConcernReport:
    """One fake report; `i` keeps CPR numbers distinct."""
    cats = rng.sample(CATEGORIES, rng.randint(1, 3))
    data: dict[str, object] = {
        "reporter": {
            "name": "Testlærer Testesen",
            "role": "SSP-lærer",
            "contact": "ssp@skole.example",
            "public_employee": rng.random() < 0.8,
        },
        "concern": {
            "categories": [c.value for c in cats],
            "description": "Testbeskrivelse af bekymringen (bench).",
            "child_at_risk": rng.random() < 0.3,
            "abuse_suspected": rng.random() < 0.05,
            "planned_serious_crime": rng.random() < 0.05,
            "school_absence_pct": rng.choice([None, 5.0, 16.0, 30.0]),
            "location": rng.choice([None, "Albertslund Station"]),
        },
        "consent": {"subject": rng.random() < 0.3, "guardians": rng.random() < 0.3},
        "purpose": "investigation" if rng.random() < 0.03 else "crime_prevention",
    }
    if rng.random() < 0.9:
        years = rng.choice([3, 9, 13, 15, 17, 19, 22, 24, 30, 41, 55])
        subject: dict[str, object] = {
            "cpr": make_cpr(_born(rng, years), i),
            "name": "Testperson Testesen",
            "district": rng.choice([None, "Herstedlund", "Galgebakken"]),
            "psychiatric_contact": rng.random() < 0.2,
            "socially_vulnerable": rng.random() < 0.2,
        }
        if rng.random() < 0.2:
            subject["custody"] = {
                "kind": rng.choice(["prison", "placement", "remand"]),
                "convicted": rng.random() < 0.7,
                "release_date": (NOW + timedelta(days=rng.randint(-400, 120))).date().isoformat(),
                "radicalisation_risk": rng.random() < 0.1,
            }
        data["subject"] = subject
    return ConcernReport.model_validate(data)


def _rate(count: int, run: Callable[[], None], repeat: int) -> tuple[float, float]:
    """Decisions per CPU second of this process: time the machine gives to other processes
    (the CI box is shared) does not count against the policies."""
    run()  # warm-up: imports, the policy engine's memo tables
    times = []
    for _ in range(repeat):
        t0 = time.process_time()
        run()
        times.append(time.process_time() - t0)
    return count / min(times), count / statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pin", type=int, metavar="CPU", help="pin the process to this CPU (Linux)")
    args = parser.parse_args(argv)
    if args.pin is not None:
        os.sched_setaffinity(0, {args.pin})

    rng = random.Random(20261120)
    agreement: Agreement = load_agreement(default_agreement_path())
    # Built as the composition root builds it: one engine, this year's holidays loaded.
    policy = PolicyEngine(agreement, WorkingDays.around(NOW.date()))
    assess, disclose = policy.assess, policy.disclose
    registry = load_registry(default_registry_path())
    targets: list[tuple[Recipient, Structure]] = [
        (p.recipient, s) for p in registry.partners for s in sorted(p.structures)
    ]
    source = SourceFacts(source_id="herstedlund-skole", kind=SourceKind.SCHOOL)
    reports = [make_report(rng, i) for i in range(args.reports)]
    times = [NOW + timedelta(seconds=37 * i) for i in range(len(reports))]
    requests = [
        (Request(report=r, recipient=rc, structure=s, purpose=r.purpose, justification=JUSTIFICATION), t)
        for r, t in zip(reports, times, strict=True)
        for rc, s in targets
    ]
    picks = [[targets[rng.randrange(len(targets))] for _ in range(3)] for _ in reports]
    mix = [
        (
            r,
            t,
            [
                Request(
                    report=r, recipient=rc, structure=s, purpose=Purpose.CRIME_PREVENTION, justification=JUSTIFICATION
                )
                for rc, s in chosen
            ],
        )
        for r, t, chosen in zip(reports, times, picks, strict=True)
    ]

    # The corpus is input, not work: keep the garbage collector from walking it over and over
    # (a worker holds one batch at a time, not thousands of reports).
    gc.collect()
    gc.freeze()

    def run_assess() -> None:
        for r, t in zip(reports, times, strict=True):
            assess(r, source, t)

    def run_disclose() -> None:
        for q, t in requests:
            disclose(q, t)

    def run_mix() -> None:
        for r, t, reqs in mix:
            assess(r, source, t)
            for q in reqs:
                disclose(q, t)

    def run_mix_building_requests() -> None:
        for r, t, chosen in zip(reports, times, picks, strict=True):
            assess(r, source, t)
            for rc, s in chosen:
                disclose(
                    Request(
                        report=r,
                        recipient=rc,
                        structure=s,
                        purpose=Purpose.CRIME_PREVENTION,
                        justification=JUSTIFICATION,
                    ),
                    t,
                )

    print(
        f"policy benchmark: {len(reports)} reports, {len(targets)} partner/structure pairs, "
        f"best/median of {args.repeat}, one thread" + (f" pinned to CPU {args.pin}" if args.pin is not None else "")
    )
    a_best, a_med = _rate(len(reports), run_assess, args.repeat)
    print(f"  assess                        {a_best:>10,.0f} /s  (median {a_med:,.0f})")
    d_best, d_med = _rate(len(requests), run_disclose, args.repeat)
    print(f"  disclose                      {d_best:>10,.0f} /s  (median {d_med:,.0f})")
    m_best, m_med = _rate(len(reports) * 4, run_mix, args.repeat)
    print(f"  hub mix (1 assess + 3 disclose)                 {m_best:>10,.0f} /s  (median {m_med:,.0f})")
    r_best, r_med = _rate(len(reports) * 4, run_mix_building_requests, args.repeat)
    print(f"  hub mix, also building each Request             {r_best:>10,.0f} /s  (median {r_med:,.0f})")
    print(f"assess+disclose decisions per second (hub mix, best of {args.repeat}): {m_best:,.0f}")


if __name__ == "__main__":
    main()
