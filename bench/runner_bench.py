"""Runner benchmark: what one `scheduledrun run` costs and how quickly it learns a task ended.

Prints, against the real control plane (devcluster) and the a2a-sdk test agents, with the
runner authenticating as a pod does (a ServiceAccount token folder and KUBERNETES_SERVICE_*):

- cold start to the first byte the agent receives (the agent-card read), as a ratio to
  `python -c "import httpx"` measured in the same run (medians of --runs each; goal at most
  1.3), and for reference to the prompt itself (sent after the Pending entry is written);
- the runner process's peak RSS (ru_maxrss of the child; goal at most 32 MB);
- median delay from the agent's task ending to the runner knowing its outcome (goal 0.5 s),
  streaming (what the agent card offers) and polling (a card without streaming), side by side
  against the a2a-sdk 1.x server, kagent's own runtime (kagent-langgraph's KAgentApp, protocol
  0.3, which sends only new events after a subscribe) and a2a-go v2 (protocol 1.0);
- requests per second to the agent while the runner waits (goal at most 1).

Usage: `uv run --frozen python -m bench.runner_bench [--runs 10] [--task-ms 3000]`
(binaries from $SCHEDULEDRUN_BIN_DIR, or devcluster/build.sh's cache).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from devcluster.agents import AgentServer, running
from devcluster.cluster import ControlPlane, build_binaries
from devcluster.peers import A2AGoServer, KagentRuntime, PeerProcess
from runner import api, history

SCHEDULEDRUN = str(Path(sys.executable).with_name("scheduledrun"))
TIME = "/usr/bin/time"
NAMESPACE = "bench"
ACCOUNT = "bench-runner"
T0 = datetime(2026, 1, 1, tzinfo=UTC)

GOAL_RATIO, GOAL_RSS_MB, GOAL_DELAY_S, GOAL_RATE = 1.3, 32.0, 0.5, 1.0


@dataclass
class RunResult:
    started: float  # wall clock just before the process was spawned
    code: int
    rss_kb: int
    log: list[dict[str, Any]]


def import_httpx_seconds() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import httpx"], check=True)
    return time.perf_counter() - start


def setup_cluster(plane: ControlPlane, folder: Path) -> dict[str, str]:
    """Namespace, a ServiceAccount allowed what the runner needs, its token: a pod's env."""
    runner_rules = [
        {"apiGroups": [api.GROUP], "resources": [api.PLURAL], "verbs": ["get"]},
        {
            "apiGroups": [api.GROUP],
            "resources": [f"{api.PLURAL}/status"],
            "verbs": ["get", "patch"],
        },
        {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["get"]},
    ]
    rbac = "/apis/rbac.authorization.k8s.io/v1/namespaces/" + NAMESPACE
    with plane.client() as client:
        for path, body in [
            ("/api/v1/namespaces", {"metadata": {"name": NAMESPACE}}),
            (
                f"/api/v1/namespaces/{NAMESPACE}/serviceaccounts",
                {"metadata": {"name": ACCOUNT}},
            ),
            (f"{rbac}/roles", {"metadata": {"name": ACCOUNT}, "rules": runner_rules}),
            (
                f"{rbac}/rolebindings",
                {
                    "metadata": {"name": ACCOUNT},
                    "roleRef": {
                        "apiGroup": "rbac.authorization.k8s.io",
                        "kind": "Role",
                        "name": ACCOUNT,
                    },
                    "subjects": [
                        {"kind": "ServiceAccount", "name": ACCOUNT, "namespace": NAMESPACE}
                    ],
                },
            ),
        ]:
            response = client.post(path, json=body)
            if response.status_code not in (201, 409):
                raise SystemExit(f"creating {path}: {response.text}")
        token = client.post(
            f"/api/v1/namespaces/{NAMESPACE}/serviceaccounts/{ACCOUNT}/token",
            json={"spec": {"expirationSeconds": 3600}},
        )
        token.raise_for_status()
    (folder / "token").write_text(token.json()["status"]["token"])
    (folder / "ca.crt").write_bytes(plane.ca_file.read_bytes())
    (folder / "namespace").write_text(NAMESPACE)
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    return env | {
        api.ENV_SERVICEACCOUNT_DIR: str(folder),
        "KUBERNETES_SERVICE_HOST": "127.0.0.1",
        "KUBERNETES_SERVICE_PORT": str(plane.port),
    }


def create(plane: ControlPlane, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    paths = {
        "ScheduledRun": f"/apis/{api.GROUP}/{api.VERSION}/namespaces/{NAMESPACE}/{api.PLURAL}",
        "Job": f"/apis/batch/v1/namespaces/{NAMESPACE}/jobs",
    }
    with plane.client() as client:
        response = client.post(paths[kind], json=body)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result


Peer = AgentServer | PeerProcess


def requests_of(peer: Peer, agent: str) -> list[tuple[str, float]]:
    """(method, time) of every HTTP request the peer got for `agent`."""
    if isinstance(peer, AgentServer):
        return [(r.method, r.at) for r in peer.requests if f"/{agent}/" in r.path]
    return [(r["method"], r["at"]) for r in peer.requests_to(agent)]


def one_run(
    plane: ControlPlane, env: dict[str, str], agents: Peer, name: str, agent: str, n: int
) -> RunResult:
    """A ScheduledRun and a suspended Job for it, then one runner process, timed."""
    create(
        plane,
        "ScheduledRun",
        {
            "apiVersion": api.API_VERSION,
            "kind": api.KIND,
            "metadata": {"name": name},
            "spec": {
                "schedule": "@hourly",
                "prompt": "benchmark prompt",
                "targetRef": {"apiGroup": "kagent.dev", "kind": "Agent", "name": agent},
                "timeout": "60s",
            },
        },
    )
    job = create(
        plane,
        "Job",
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {
                "name": name,
                "annotations": {
                    api.ANNOTATION_SCHEDULED_TIME: history.format_time(T0 + timedelta(minutes=n))
                },
            },
            "spec": {
                "suspend": True,
                "template": {
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [{"name": api.RUNNER_CONTAINER, "image": "runner:bench"}],
                    }
                },
            },
        },
    )
    run_env = env | {
        api.ENV_JOB_NAME: name,
        api.ENV_JOB_UID: job["metadata"]["uid"],
        api.ENV_A2A_BASE_URL: agents.base_url,
    }
    # Peak RSS through /usr/bin/time: a child forked from this (large) Python process would
    # count the parent's pages in its own ru_maxrss until it execs; `time` is a small C program.
    with tempfile.TemporaryFile("w+") as errors, tempfile.NamedTemporaryFile("r") as rss:
        started = time.time()
        process = subprocess.run(
            [TIME, "-f", "%M", "-o", rss.name, *runner_args(name)],
            env=run_env,
            stderr=errors,
            stdout=subprocess.DEVNULL,
            check=False,
        )
        errors.seek(0)
        log = [json.loads(line) for line in errors if line.startswith("{")]
        rss_kb = int(rss.read().split()[-1])
    return RunResult(started, process.returncode, rss_kb, log)


def log_time(log: list[dict[str, Any]], step: str) -> float:
    for line in log:
        if line["step"] == step:
            return datetime.fromisoformat(line["time"]).timestamp()
    raise SystemExit(f"the runner logged no {step!r} step: {log}")


def sent_task(log: list[dict[str, Any]]) -> str:
    return str(next(line["task"] for line in log if line["step"] == "sent"))


def runner_args(name: str) -> list[str]:
    return [SCHEDULEDRUN, "run", "--namespace", NAMESPACE, "--name", name]


@contextmanager
def control_plane() -> Iterator[ControlPlane]:
    given = os.environ.get("SCHEDULEDRUN_BIN_DIR")
    plane = ControlPlane(Path(given) if given else build_binaries())
    plane.start()
    try:
        yield plane
    finally:
        plane.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="runs of each measurement (>= 10)")
    parser.add_argument(
        "--task-ms", type=int, default=3000, help="shortest agent task, latency runs"
    )
    options = parser.parse_args()

    with control_plane() as plane, running() as agents, tempfile.TemporaryDirectory() as folder:
        env = setup_cluster(plane, Path(folder))
        import_httpx_seconds()  # warm the file cache for both sides alike
        baseline, cold, prompt, rss = [], [], [], []
        for n in range(options.runs):
            baseline.append(import_httpx_seconds())
            agent = f"echo-cold-{n}"
            result = one_run(plane, env, agents, f"cold-{n}", agent, n)
            mine = requests_of(agents, agent)
            cold.append(min(at for _, at in mine) - result.started)
            prompt.append(min(at for method, at in mine if method == "POST") - result.started)
            rss.append(result.rss_kb / 1024)
            if result.code != api.EXIT_SUCCEEDED:
                raise SystemExit(f"cold run {n} exited {result.code}: {result.log}")

        waits: dict[str, tuple[list[float], list[float]]] = {}
        with KagentRuntime() as kagent, A2AGoServer() as a2ago:
            peers: list[tuple[str, Peer]] = [
                ("a2a-sdk 1.x", agents),
                ("kagent-langgraph", kagent),
                ("a2a-go v2", a2ago),
            ]
            for peer_name, peer in peers:
                for mode, suffix in (("streaming", ""), ("polling", "-nostream")):
                    delays, rates = [], []
                    for n in range(options.runs):
                        # Task lengths spread over a second: polling sees no one fixed phase.
                        ms = options.task_ms + (n * 137) % 1000
                        tag = f"{len(waits)}-{n}"
                        agent = f"slow-{ms}-lat{tag}{suffix}"
                        result = one_run(
                            plane, env, peer, f"wait-{tag}", agent, 100 + len(waits) * 100 + n
                        )
                        if result.code != api.EXIT_SUCCEEDED:
                            raise SystemExit(f"{peer_name} run exited {result.code}: {result.log}")
                        ended = peer.finished[sent_task(result.log)]
                        delays.append(log_time(result.log, "outcome") - ended)
                        sent = log_time(result.log, "sent")
                        waiting = [at for _, at in requests_of(peer, agent) if sent < at <= ended]
                        rates.append(len(waiting) / (ended - sent))
                    waits[f"{peer_name}, {mode}"] = (delays, rates)

    ratio = statistics.median(cold) / statistics.median(baseline)
    rows = [
        ("python -c 'import httpx' (median)", f"{statistics.median(baseline) * 1000:.0f} ms", ""),
        ("cold start to first byte at agent", f"{statistics.median(cold) * 1000:.0f} ms", ""),
        ("  ratio", f"{ratio:.2f}", f"<= {GOAL_RATIO}"),
        (
            "cold start to the prompt sent (after Pending)",
            f"{statistics.median(prompt) * 1000:.0f} ms",
            "",
        ),
        (
            "  ratio",
            f"{statistics.median(prompt) / statistics.median(baseline):.2f}",
            "(for reference)",
        ),
        ("peak RSS of the runner (max)", f"{max(rss):.1f} MB", f"<= {GOAL_RSS_MB:.0f} MB"),
    ]
    for mode, (delays, rates) in waits.items():
        rows += [
            (
                f"task end -> runner knows ({mode})",
                f"{statistics.median(delays):.3f} s",
                f"<= {GOAL_DELAY_S} s",
            ),
            (
                f"requests/s while waiting ({mode})",
                f"{statistics.median(rates):.2f}",
                f"<= {GOAL_RATE:.0f}",
            ),
        ]
    print(f"runner benchmark: {options.runs} runs each, agent tasks of {options.task_ms} ms")
    for label, value, goal in rows:
        print(f"  {label:<62} {value:>10}   {goal}")


if __name__ == "__main__":
    main()
