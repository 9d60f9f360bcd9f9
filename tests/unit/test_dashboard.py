"""The chart's Grafana dashboard (dashboards/scheduledruns.json, shipped in a ConfigMap for
Grafana's sidecar): a valid dashboard model (schema version, unique panel ids, panels on the
24-column grid without overlap, a data source on every query), every PromQL expression parsed by
Prometheus' own parser (promtool, as recording rules with Grafana's variables filled in), and
every series it reads one the operator exports."""

from __future__ import annotations

import json
import re
import subprocess
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
import yaml

from devcluster.cluster import binaries
from devcluster.promtool import promtool
from generator.operator.metrics import Metrics

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "kagent-scheduledrun"
DASHBOARD = CHART / "dashboards" / "scheduledruns.json"
MODEL: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
DASHBOARD_ON = (
    "--set",
    "grafanaDashboard.enabled=true",
    "--show-only",
    "templates/grafana-dashboard.yaml",
)
# What Grafana puts in place of its variables before a query reaches Prometheus.
FILLED = {
    "$__rate_interval": "5m",
    "$__range": "1d",
    "$namespace": ".*",
    "$scheduledrun": ".*",
    "$job": ".*",
}


def expressions() -> list[str]:
    found = [t["expr"] for p in MODEL["panels"] for t in p["targets"]]
    # A variable's query `label_values(<selector>, <label>)`: its selector is PromQL.
    for variable in MODEL["templating"]["list"]:
        query = variable.get("definition") or ""
        match = re.fullmatch(r"label_values\((.+), *\w+\)", query)
        if match:
            found.append(match.group(1))
    return found


def filled(expr: str) -> str:
    for name, value in FILLED.items():
        expr = expr.replace(name, value)
    assert "$" not in expr, f"a variable Grafana would fill is not known here: {expr}"
    return expr


def test_the_model_is_a_dashboard() -> None:
    assert isinstance(MODEL["schemaVersion"], int)
    assert MODEL["schemaVersion"] >= 36  # the panel and data-source model used here
    assert MODEL["uid"]
    assert MODEL["title"]
    ids = [p["id"] for p in MODEL["panels"]]
    assert len(ids) == len(set(ids))
    for panel in MODEL["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] >= 0
        assert grid["x"] + grid["w"] <= 24
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs)), panel["title"]
        assert all(
            t["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            for t in panel["targets"]
        )


def test_no_two_panels_overlap() -> None:
    def cells(panel: dict[str, Any]) -> set[tuple[int, int]]:
        g = panel["gridPos"]
        return {
            (x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])
        }

    overlapping = [
        (a["title"], b["title"]) for a, b in combinations(MODEL["panels"], 2) if cells(a) & cells(b)
    ]
    assert overlapping == []


def test_every_expression_parses(tmp_path: Path) -> None:
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:query_{n}", "expr": filled(expr)}
                    for n, expr in enumerate(expressions())
                ],
            }
        ]
    }
    (tmp_path / "queries.yaml").write_text(yaml.safe_dump(rules))
    checked = subprocess.run(
        [str(promtool()), "check", "rules", "queries.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_broken_expression_is_refused(tmp_path: Path) -> None:
    """Guards the test above: promtool's parser really parses."""
    rules = {"groups": [{"name": "g", "rules": [{"record": "r:x", "expr": "sum by (le (x)"}]}]}
    (tmp_path / "queries.yaml").write_text(yaml.safe_dump(rules))
    checked = subprocess.run(
        [str(promtool()), "check", "rules", "queries.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert checked.returncode != 0


def test_the_dashboard_reads_only_series_the_operator_exports() -> None:
    exported = {m.name for m in Metrics().registry.collect()}
    known = {f"{n}_total" for n in exported} | {f"{n}_bucket" for n in exported} | exported
    read = {
        name for expr in expressions() for name in re.findall(r"\b(kagent_scheduledrun_\w+)", expr)
    }
    assert read - known == set()


@pytest.fixture(scope="module")
def configmap() -> dict[str, Any]:
    rendered = subprocess.run(
        [str(binaries() / "helm"), "template", "kagent-scheduledrun", str(CHART), *DASHBOARD_ON],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert rendered.returncode == 0, rendered.stderr
    doc: dict[str, Any] = yaml.safe_load(rendered.stdout)
    return doc


def test_the_configmap_carries_the_dashboard_for_grafanas_sidecar(
    configmap: dict[str, Any],
) -> None:
    assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
    (text,) = configmap["data"].values()
    assert json.loads(text) == MODEL
