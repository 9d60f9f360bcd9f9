"""The chart's alerts (templates/prometheusrule.yaml), checked by Prometheus' own promtool:
`promtool check rules` on the rules `helm template` renders, and `promtool test rules` with the
cases in tests/promtool/alerts_test.yaml (each alert firing, and not firing where it should
not). Also: every alert has both kinds of case, every series an alert reads is one the operator
exports (or Prometheus' own `up`), and the thresholds come from values."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from devcluster.cluster import binaries
from devcluster.promtool import promtool
from generator.operator.metrics import Metrics

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "kagent-scheduledrun"
CASES = ROOT / "tests" / "promtool" / "alerts_test.yaml"
RULE = "templates/prometheusrule.yaml"
ENABLED = ("--set", "prometheusRule.enabled=true")
RELEASE = "kagent-scheduledrun"  # the cases' job label is this release's metrics Service


@pytest.fixture(scope="module")
def helm() -> Path:
    return binaries() / "helm"


def rule_groups(helm: Path, *values: str) -> list[dict[str, Any]]:
    rendered = subprocess.run(
        [str(helm), "template", RELEASE, str(CHART), *ENABLED, "--show-only", RULE, *values],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert rendered.returncode == 0, rendered.stderr
    (rule,) = [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]
    assert rule["kind"] == "PrometheusRule"
    groups: list[dict[str, Any]] = rule["spec"]["groups"]
    return groups


def alerts(groups: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["alert"]: r for g in groups for r in g["rules"]}


@pytest.fixture(scope="module")
def tool() -> Path:
    return promtool()


def run(tool: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(tool), *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_promtool_checks_and_unit_tests_the_rules(
    helm: Path,
    tool: Path,
    tmp_path: Path,
) -> None:
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": rule_groups(helm)}))
    shutil.copy(CASES, tmp_path / CASES.name)
    checked = run(tool, "check", "rules", "rules.yaml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = run(tool, "test", "rules", CASES.name, cwd=tmp_path)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_a_broken_expectation_fails(helm: Path, tool: Path, tmp_path: Path) -> None:
    """Guards the test above: promtool really compares (an alert expected where none fires)."""
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": rule_groups(helm)}))
    broken = CASES.read_text().replace("severity: critical", "severity: info", 1)
    (tmp_path / CASES.name).write_text(broken)
    assert run(tool, "test", "rules", CASES.name, cwd=tmp_path).returncode != 0


def test_every_alert_has_a_firing_and_a_quiet_case(helm: Path) -> None:
    cases = yaml.safe_load(CASES.read_text())["tests"]
    checks = [c for t in cases for c in t["alert_rule_test"]]
    fires = {c["alertname"] for c in checks if c["exp_alerts"]}
    quiet = {c["alertname"] for c in checks if not c["exp_alerts"]}
    names = set(alerts(rule_groups(helm)))
    assert (fires, quiet) == (names, names)


def test_alerts_read_only_series_the_operator_exports(helm: Path) -> None:
    exported = {m.name for m in Metrics().registry.collect()}
    # prometheus_client names a counter's family without `_total`; histograms add `_bucket`.
    known = {f"{n}_total" for n in exported} | {f"{n}_bucket" for n in exported} | exported
    # Delivery results are counted by the runner's delivery (issue 21) when it is present.
    known |= {"kagent_scheduledrun_delivery_total", "up"}
    read = {
        name
        for rule in alerts(rule_groups(helm)).values()
        for name in re.findall(r"\b(kagent_scheduledrun_[a-z_]+|up)\{?", rule["expr"])
    }
    assert read - known == set()


def test_thresholds_come_from_values(helm: Path) -> None:
    tuned = alerts(
        rule_groups(
            helm,
            "--set",
            "prometheusRule.noSuccessIntervals=5",
            "--set",
            "prometheusRule.severity.operatorDown=page",
            "--set",
            "prometheusRule.operatorJob=scheduledrun",
        )
    )
    assert "> 5 * max by" in tuned["ScheduledRunNoRecentSuccess"]["expr"]
    assert tuned["ScheduledRunOperatorDown"]["labels"] == {"severity": "page"}
    assert tuned["ScheduledRunOperatorDown"]["expr"] == 'absent(up{job="scheduledrun"} == 1)'
