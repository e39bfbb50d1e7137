"""The Grafana dashboard (deploy/grafana/hub.json) imports, and queries only metrics the hub declares."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client.metrics import MetricWrapperBase

from hub import metrics

DASHBOARD = Path(__file__).parents[2] / "deploy" / "grafana" / "hub.json"
_SUFFIXES = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_sum", "_count")}


def families() -> dict[str, set[str]]:
    """Each metric `hub.metrics` declares, with the series names it exports (a counter's
    `_total`, a histogram's `_bucket`, `_sum` and `_count`)."""
    found: dict[str, set[str]] = {}
    for value in vars(metrics).values():
        if isinstance(value, MetricWrapperBase):
            for family in value.describe():
                found[family.name] = {family.name + s for s in _SUFFIXES[family.type]}
    return found


def test_the_dashboard_is_an_importable_grafana_dashboard() -> None:
    doc = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert [i["name"] for i in doc["__inputs"]] == ["DS_PROMETHEUS"]
    assert doc["title"] and doc["uid"] and doc["panels"]
    assert len({p["id"] for p in doc["panels"]}) == len(doc["panels"])
    for panel in doc["panels"]:
        assert panel["datasource"]["uid"] == "${DS_PROMETHEUS}"
        assert panel["targets"] and all(t["expr"] for t in panel["targets"])


def test_the_dashboard_queries_only_declared_metrics_and_every_one_of_them() -> None:
    doc = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    queried = {name for p in doc["panels"] for t in p["targets"] for name in re.findall(r"\bhub_\w+", t["expr"])}
    declared = families()
    exported = set().union(*declared.values())
    assert queried <= exported, sorted(queried - exported)
    shown = {family for family, series in declared.items() if series & queried}
    assert shown == set(declared), sorted(set(declared) - shown)


def test_every_metric_is_named_hub() -> None:
    assert families() and all(name.startswith("hub_") for name in families())
