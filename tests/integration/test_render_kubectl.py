"""`scheduledrun render` output against real kubectl and a real kube-apiserver.

Pipes the CLI's output for every example into `kubectl apply --dry-run=client` (what the issue
asks; kubectl needs the server's discovery even then, hence the control plane, but it checks
little: an unknown field passes), and into `--dry-run=server --validate=strict` in a namespace
that warns on the "restricted" Pod Security Standard, owned by a real ScheduledRun: the
apiserver's full validation (unknown fields, podFailurePolicy's container name, ...) and no
PodSecurity warning. Both were seen to fail on a CronJob broken on purpose.
What the CronJob then does is the operator's and the end-to-end tests' business.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from devcluster.cluster import ControlPlane
from generator.schedule import hashed

pytestmark = pytest.mark.cluster

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.yaml"))
SCHEDULEDRUN = str(Path(sys.executable).with_name("scheduledrun"))


def render(*args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [SCHEDULEDRUN, "render", *args], input=stdin, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def cronjob_names(manifest: str) -> list[str]:
    return [doc["metadata"]["name"] for doc in yaml.safe_load_all(manifest) if doc]


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_kubectl_client_dry_run_accepts_rendered_example(
    control_plane: ControlPlane, example: Path
) -> None:
    manifest = render(str(example))
    result = control_plane.kubectl("apply", "--dry-run=client", "-f", "-", input=manifest)
    assert result.stdout.splitlines() == [
        f"cronjob.batch/{name} created (dry run)" for name in cronjob_names(manifest)
    ]


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_apiserver_accepts_rendered_example_owned_by_its_scheduledrun(
    control_plane: ControlPlane, namespace: str, example: Path
) -> None:
    control_plane.kubectl(
        "label", "namespace", namespace,
        "pod-security.kubernetes.io/warn=restricted",
        "pod-security.kubernetes.io/warn-version=latest",
    )  # fmt: skip
    for doc in (d for d in yaml.safe_load_all(example.read_text()) if d):
        doc["metadata"]["namespace"] = namespace
        text = yaml.safe_dump(doc)
        applied = control_plane.kubectl("create", "-o", "yaml", "-f", "-", input=text)
        uid = yaml.safe_load(applied.stdout)["metadata"]["uid"]

        manifest = render("-", "--uid", uid, stdin=text)
        result = control_plane.kubectl(
            "apply",
            "--dry-run=server",
            "--validate=strict",
            "-o",
            "yaml",
            "-f",
            "-",
            input=manifest,
            check=False,
        )

        assert result.returncode == 0, result.stderr
        assert "Warning" not in result.stderr  # e.g. "would violate PodSecurity restricted"
        cronjob = yaml.safe_load(result.stdout)
        assert cronjob["metadata"]["ownerReferences"][0]["uid"] == uid
        key = hashed.object_key(namespace, doc["metadata"]["name"])
        assert cronjob["spec"]["schedule"] == hashed.expand(doc["spec"]["schedule"], key)
