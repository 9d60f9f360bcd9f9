"""The Helm chart, rendered offline with the real `helm` binary (built by devcluster).

Covers: `helm lint --strict`, what `helm template` renders with default values and with every
optional feature on (charts/kagent-scheduledrun/ci/all-features-values.yaml), the RBAC rules
verb by verb, restricted pod security, that the Deployment's arguments parse as the operator's
own click command would parse them, and that values.schema.json rejects typos and wrong types.
Not covered here: what the API server makes of the manifests (tests/integration/test_chart_*).
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from devcluster.cluster import binaries
from runner import api
from tests.unit.test_crd_schema import CHART_DIR

ALL_FEATURES = CHART_DIR / "ci" / "all-features-values.yaml"
RELEASE = "kagent-scheduledrun"
NAMESPACE = "kagent"
# The Kubernetes version helm assumes offline (a helm built without its version ldflags assumes
# v1.20, below the chart's kubeVersion); the control plane of the cluster tests runs 1.34.
KUBE_VERSION = "1.34.0"


@pytest.fixture(scope="module")
def helm() -> Path:
    """The helm the control-plane build made (built now if it is missing, reused otherwise)."""
    return binaries() / "helm"


def run_helm(helm: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(helm), *args], capture_output=True, text=True, timeout=120, check=False
    )


def render(helm: Path, *args: str) -> list[dict[str, Any]]:
    result = run_helm(
        helm,
        "template",
        RELEASE,
        str(CHART_DIR),
        "-n",
        NAMESPACE,
        "--kube-version",
        KUBE_VERSION,
        *args,
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def by_kind(docs: Sequence[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


@pytest.fixture(scope="module")
def default_docs(helm: Path) -> list[dict[str, Any]]:
    return render(helm)


@pytest.fixture(scope="module")
def all_docs(helm: Path) -> list[dict[str, Any]]:
    return render(helm, "--values", str(ALL_FEATURES))


def rules_of(role: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    """A role's rules as (apiGroup, resource, verb, resourceName or '') tuples."""
    return {
        (group, resource, verb, name)
        for rule in role["rules"]
        if "nonResourceURLs" not in rule
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
        for name in rule.get("resourceNames", [""])
    }


def operator_container(docs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    deployment = by_kind(docs, "Deployment")[RELEASE]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    result: dict[str, Any] = container
    return result


# ---- lint and render ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [pytest.param([], id="defaults"), pytest.param(["--values", str(ALL_FEATURES)], id="all")],
)
def test_helm_lint_strict_is_clean(helm: Path, values: list[str]) -> None:
    result = run_helm(
        helm, "lint", "--strict", "--kube-version", KUBE_VERSION, str(CHART_DIR), *values
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_default_render_has_exactly_the_expected_objects(
    default_docs: list[dict[str, Any]],
) -> None:
    kinds = sorted((d["kind"], d["metadata"]["name"]) for d in default_docs)
    assert kinds == [
        ("ClusterRole", RELEASE),
        ("ClusterRole", f"{RELEASE}-cluster"),
        ("ClusterRole", f"{RELEASE}-edit"),
        ("ClusterRole", f"{RELEASE}-metrics-reader"),
        ("ClusterRole", f"{RELEASE}-runner"),
        ("ClusterRole", f"{RELEASE}-view"),
        ("ClusterRoleBinding", RELEASE),
        ("ClusterRoleBinding", f"{RELEASE}-cluster"),
        ("Deployment", RELEASE),
        ("Service", f"{RELEASE}-metrics"),
        ("ServiceAccount", RELEASE),
        ("ValidatingAdmissionPolicy", f"{RELEASE}-created-by"),
        ("ValidatingAdmissionPolicyBinding", f"{RELEASE}-created-by"),
    ]


def test_all_features_render_adds_service_monitor_and_namespace_bindings(
    all_docs: list[dict[str, Any]],
) -> None:
    kinds = sorted((d["kind"], d["metadata"].get("namespace", "")) for d in all_docs)
    assert ("ServiceMonitor", NAMESPACE) in kinds
    assert [k for k in kinds if k[0] == "RoleBinding"] == [
        ("RoleBinding", "team-a"),
        ("RoleBinding", "team-b"),
    ]
    # Namespaced permissions only through those RoleBindings, not cluster-wide.
    assert list(by_kind(all_docs, "ClusterRoleBinding")) == [f"{RELEASE}-cluster"]


@pytest.mark.parametrize("docs_fixture", ["default_docs", "all_docs"])
def test_every_object_carries_the_kagent_labels(
    docs_fixture: str, request: pytest.FixtureRequest
) -> None:
    docs: list[dict[str, Any]] = request.getfixturevalue(docs_fixture)
    missing = [
        (d["kind"], d["metadata"]["name"])
        for d in docs
        if not {
            "app.kubernetes.io/name": "kagent-scheduledrun",
            "app.kubernetes.io/instance": RELEASE,
            "app.kubernetes.io/part-of": "kagent",
            "app.kubernetes.io/managed-by": "Helm",
        }.items()
        <= d["metadata"]["labels"].items()
    ]
    assert missing == []


def test_the_chart_and_the_rendered_cronjobs_name_the_runner_alike(
    default_docs: list[dict[str, Any]],
) -> None:
    """The chart's runner ClusterRole and every runner pod (generator/cronjob/render.py) carry
    one component label value: runner/api.py's."""
    role = by_kind(default_docs, "ClusterRole")[f"{RELEASE}-runner"]
    assert role["metadata"]["labels"][api.LABEL_COMPONENT] == api.COMPONENT_RUNNER == "runner"


# ---- the Deployment -----------------------------------------------------------------------


def test_operator_runs_one_replica_that_never_overlaps(default_docs: list[dict[str, Any]]) -> None:
    spec = by_kind(default_docs, "Deployment")[RELEASE]["spec"]
    assert (spec["replicas"], spec["strategy"]["type"]) == (1, "Recreate")


def test_operator_pod_meets_restricted_pod_security(default_docs: list[dict[str, Any]]) -> None:
    pod = by_kind(default_docs, "Deployment")[RELEASE]["spec"]["template"]["spec"]
    container = operator_container(default_docs)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }


def test_operator_probes_use_the_health_port(default_docs: list[dict[str, Any]]) -> None:
    container = operator_container(default_docs)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "health"}
    assert ports == {"metrics": 8080, "health": 8081}
    assert "--health-port=8081" in container["args"]
    # /healthz fails after staleAfterSeconds without word from the API server, well before the
    # kubelet's failures add up to a restart (issue 22 §2).
    liveness = container["livenessProbe"]
    assert "--health-stale-after=30" in container["args"]
    assert liveness["failureThreshold"] * liveness["periodSeconds"] >= 2 * 30


def test_operator_has_resources(default_docs: list[dict[str, Any]]) -> None:
    resources = operator_container(default_docs)["resources"]
    assert set(resources) == {"requests", "limits"}
    assert "memory" in resources["limits"]


@pytest.mark.parametrize(
    ("docs_fixture", "expected"),
    [
        pytest.param(
            "default_docs",
            {
                "a2a_base_url": "http://kagent-controller.kagent.svc:8083",
                "a2a_protocol": "auto",
                "a2a_user_id": "admin@kagent.dev",
                "a2a_token_secret": "",
                "a2a_token_secret_key": "token",
                "a2a_token_audience": "",
                "session_url": "",
                "runner_image": "ghcr.io/kagent-dev/kagent-scheduledrun:0.1.0",
                "runner_image_pull_policy": "IfNotPresent",
                "runner_service_account": "kagent-scheduledrun-runner",
                "runner_otlp_endpoint": "",
                "runner_cluster_role": f"{RELEASE}-runner",
                "namespaces": (),
                "all_namespaces": True,
                "metrics_port": 8080,
                "metrics_address": "0.0.0.0",
                "metrics_secure": True,
                "metrics_cert_dir": None,
                "health_address": "0.0.0.0",
                "health_port": 8081,
                "health_stale_after": 30.0,
                "hot_minute_capacity": 400,
                "log_format": "text",
                "log_level": "info",
            },
            id="defaults",
        ),
        pytest.param(
            "all_docs",
            {
                "a2a_base_url": "https://kagent-controller.kagent.svc:8443",
                "a2a_protocol": "1.0",
                "a2a_user_id": "scheduler@example.com",
                "a2a_token_secret": "",
                "a2a_token_secret_key": "token",
                "a2a_token_audience": "kagent",
                "session_url": "",
                "runner_image": "registry.example.com/kagent/scheduledrun-runner:0.1.0-rc.1",
                "runner_image_pull_policy": "Always",
                "runner_service_account": "scheduled-runner",
                "runner_otlp_endpoint": "http://otel-collector.observability:4318",
                "runner_cluster_role": f"{RELEASE}-runner",
                "namespaces": ("team-a", "team-b"),
                "all_namespaces": False,
                "metrics_port": 9090,
                "metrics_address": "0.0.0.0",
                "metrics_secure": True,
                "metrics_cert_dir": None,
                "health_address": "0.0.0.0",
                "health_port": 9091,
                "health_stale_after": 45.0,
                "hot_minute_capacity": 1200,
                "log_format": "json",
                "log_level": "debug",
            },
            id="all-features",
        ),
    ],
)
def test_deployment_args_parse_as_the_operator_command(
    docs_fixture: str, expected: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    from generator.cli.operator import operator_command

    container = operator_container(request.getfixturevalue(docs_fixture))
    assert container["command"] == ["scheduledrun", "operator"]
    context = operator_command.make_context("operator", list(container["args"]))
    assert context.params == expected


def test_default_runner_image_is_the_operators_default(default_docs: list[dict[str, Any]]) -> None:
    from generator.cronjob.config import DEFAULT_RUNNER_IMAGE

    args = operator_container(default_docs)["args"]
    assert f"--runner-image={DEFAULT_RUNNER_IMAGE}" in args


def test_all_features_reach_the_pod(all_docs: list[dict[str, Any]]) -> None:
    pod = by_kind(all_docs, "Deployment")[RELEASE]["spec"]["template"]
    spec = pod["spec"]
    assert spec["serviceAccountName"] == "scheduledrun-operator"
    assert spec["priorityClassName"] == "system-cluster-critical"
    assert spec["imagePullSecrets"] == [{"name": "registry-credentials"}]
    assert spec["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert spec["tolerations"][0]["key"] == "dedicated"
    assert "nodeAffinity" in spec["affinity"]
    assert pod["metadata"]["annotations"] == {"example.com/note": "scheduled runs"}
    assert pod["metadata"]["labels"]["example.com/tier"] == "operators"
    assert {"name": "PYTHONASYNCIODEBUG", "value": "0"} in spec["containers"][0]["env"]
    image = spec["containers"][0]["image"]
    assert image == "ghcr.io/kagent-dev/kagent-scheduledrun-operator:0.1.0-rc.1"


@pytest.mark.parametrize("name", [RELEASE, f"{RELEASE}-server"])
def test_a_pod_template_carries_only_its_selector_labels(
    all_docs: list[dict[str, Any]], name: str
) -> None:
    """No chart or app version on the pod: a chart upgrade that changes nothing else must not
    roll the pod (podLabels, a user's own choice, may add more)."""
    deployment = by_kind(all_docs, "Deployment")[name]
    labels = dict(deployment["spec"]["template"]["metadata"]["labels"])
    labels.pop("example.com/tier", None)  # all-features podLabels of the operator
    assert labels == deployment["spec"]["selector"]["matchLabels"]


@pytest.mark.parametrize(
    "values",
    [
        pytest.param(["--set", "server.enabled=true"], id="all-namespaces"),
        pytest.param(["-f", str(ALL_FEATURES), "--set", "watchNamespaces={a,b}"], id="watched"),
    ],
)
def test_every_template_file_renders_one_resource(helm: Path, values: list[str]) -> None:
    """One resource per file; a file may repeat it in each watched namespace (rolebinding.yaml)."""
    result = run_helm(
        helm, "template", RELEASE, str(CHART_DIR), "--kube-version", KUBE_VERSION, *values
    )
    assert result.returncode == 0, result.stderr
    resources: dict[str, list[tuple[str, str, str]]] = {}
    for text in result.stdout.split("\n---\n"):
        source = re.search(r"^# Source: (\S+)", text, re.M)
        doc = yaml.safe_load(text)
        if source and doc:
            meta = doc["metadata"]
            found = (doc["kind"], meta["name"], meta.get("namespace", ""))
            resources.setdefault(source.group(1), []).append(found)
    assert len(resources) >= 10
    repeated = {
        file: found
        for file, found in resources.items()
        if len({(kind, name) for kind, name, _ in found}) > 1
        or len({namespace for _, _, namespace in found}) < len(found)
    }
    assert repeated == {}


# ---- Service and ServiceMonitor ------------------------------------------------------------


def test_metrics_service_selects_the_operator_pod(default_docs: list[dict[str, Any]]) -> None:
    service = by_kind(default_docs, "Service")[f"{RELEASE}-metrics"]
    pod_labels = by_kind(default_docs, "Deployment")[RELEASE]["spec"]["template"]["metadata"]
    assert service["spec"]["selector"].items() <= pod_labels["labels"].items()
    assert service["spec"]["ports"] == [
        {"name": "metrics", "port": 8080, "targetPort": "metrics", "protocol": "TCP"}
    ]


def test_service_monitor_scrapes_the_metrics_port(all_docs: list[dict[str, Any]]) -> None:
    monitor = by_kind(all_docs, "ServiceMonitor")[RELEASE]
    service = by_kind(all_docs, "Service")[f"{RELEASE}-metrics"]
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    token = "/var/run/secrets/kubernetes.io/serviceaccount/token"  # reviewed: metrics.secure
    assert monitor["spec"]["endpoints"] == [
        {
            "port": "metrics",
            "path": "/metrics",
            "interval": "30s",
            "scrapeTimeout": "10s",
            "bearerTokenFile": token,
        }
    ]
    assert monitor["metadata"]["labels"]["release"] == "prometheus"


# ---- RBAC ---------------------------------------------------------------------------------


def operator_rules(runner_account: str) -> set[tuple[str, str, str, str]]:
    """The operator's rules; the runner ServiceAccount and RoleBinding by name only."""
    return {
        *(OPERATOR_RULES - {r for r in OPERATOR_RULES if r[1] in RUNNER_ACCESS}),
        *{
            (g, r, v, runner_account)
            for r, g in RUNNER_ACCESS.items()
            for v in ("get", "create", "patch")
        },
    }


RUNNER_ACCESS = {"serviceaccounts": "", "rolebindings": "rbac.authorization.k8s.io"}
OPERATOR_RULES = {
    ("kagent.dev", "scheduledruns", "get", ""),
    ("kagent.dev", "scheduledruns", "list", ""),
    ("kagent.dev", "scheduledruns", "watch", ""),
    ("kagent.dev", "scheduledruns/status", "get", ""),
    ("kagent.dev", "scheduledruns/status", "patch", ""),
    *{
        ("kagent.dev", r, v, "")
        for r in ("agents", "sandboxagents")
        for v in ("get", "list", "watch")
    },
    *{("batch", "cronjobs", v, "") for v in ("get", "list", "watch", "create", "update", "patch")},
    *{("batch", "jobs", v, "") for v in ("get", "list", "watch")},
    ("", "events", "create", ""),
    *{
        (group, resource, verb, "kagent-scheduledrun-runner")
        for resource, group in (
            ("serviceaccounts", ""),
            ("rolebindings", "rbac.authorization.k8s.io"),
        )
        for verb in ("get", "create", "patch")
    },
    ("rbac.authorization.k8s.io", "clusterroles", "bind", f"{RELEASE}-runner"),
}
RUNNER_RULES = {
    ("kagent.dev", "scheduledruns", "get", ""),
    ("kagent.dev", "scheduledruns/status", "get", ""),
    ("kagent.dev", "scheduledruns/status", "patch", ""),
    ("batch", "jobs", "get", ""),
}
METRICS_REVIEW_RULES = {
    ("authentication.k8s.io", "tokenreviews", "create", ""),
    ("authorization.k8s.io", "subjectaccessreviews", "create", ""),
}
CLUSTER_SCOPE_RULES = {
    ("apiextensions.k8s.io", "customresourcedefinitions", "list", ""),
    ("apiextensions.k8s.io", "customresourcedefinitions", "watch", ""),
    ("rbac.authorization.k8s.io", "clusterroles", "get", f"{RELEASE}-runner"),
}
# What the built-in view role gains (and edit and admin through it), and what edit and admin gain.
VIEW_RULES = {
    ("kagent.dev", r, v, "")
    for r in ("scheduledruns", "scheduledruns/status")
    for v in ("get", "list", "watch")
}
EDIT_RULES = {
    ("kagent.dev", "scheduledruns", v, "")
    for v in ("create", "update", "patch", "delete", "deletecollection")
}
NAMESPACE_WATCH = {("", "namespaces", "list", ""), ("", "namespaces", "watch", "")}


@pytest.mark.parametrize(
    ("docs_fixture", "role", "expected"),
    [
        pytest.param("default_docs", RELEASE, OPERATOR_RULES, id="operator"),
        pytest.param("default_docs", f"{RELEASE}-runner", RUNNER_RULES, id="runner"),
        pytest.param(
            "default_docs",
            f"{RELEASE}-cluster",
            CLUSTER_SCOPE_RULES | METRICS_REVIEW_RULES,
            id="cluster-all-ns",
        ),
        pytest.param(
            "all_docs",
            f"{RELEASE}-cluster",
            CLUSTER_SCOPE_RULES | NAMESPACE_WATCH | METRICS_REVIEW_RULES,
            id="cluster-some-ns",
        ),
        pytest.param(
            "all_docs", RELEASE, operator_rules("scheduled-runner"), id="operator-some-ns"
        ),
        pytest.param("default_docs", f"{RELEASE}-view", VIEW_RULES, id="aggregate-to-view"),
        pytest.param("default_docs", f"{RELEASE}-edit", EDIT_RULES, id="aggregate-to-edit"),
    ],
)
def test_cluster_role_rules_are_exactly_the_used_verbs(
    docs_fixture: str,
    role: str,
    expected: set[tuple[str, str, str, str]],
    request: pytest.FixtureRequest,
) -> None:
    docs = request.getfixturevalue(docs_fixture)
    assert rules_of(by_kind(docs, "ClusterRole")[role]) == expected


@pytest.mark.parametrize("docs_fixture", ["default_docs", "all_docs"])
def test_no_role_grants_wildcards_or_secrets(
    docs_fixture: str, request: pytest.FixtureRequest
) -> None:
    docs = request.getfixturevalue(docs_fixture)
    granted = set().union(*(rules_of(r) for r in by_kind(docs, "ClusterRole").values()))
    assert [g for g in granted if "*" in g or g[1] == "secrets"] == []


def test_bindings_name_the_operator_service_account(all_docs: list[dict[str, Any]]) -> None:
    bindings = [d for d in all_docs if d["kind"] in ("ClusterRoleBinding", "RoleBinding")]
    subjects = {(s["kind"], s["name"], s["namespace"]) for b in bindings for s in b["subjects"]}
    assert subjects == {("ServiceAccount", "scheduledrun-operator", NAMESPACE)}


def test_secure_metrics_come_with_a_reader_role(default_docs: list[dict[str, Any]]) -> None:
    reader = by_kind(default_docs, "ClusterRole")[f"{RELEASE}-metrics-reader"]
    assert reader["rules"] == [{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}]


def test_insecure_metrics_need_no_reviews(helm: Path) -> None:
    docs = render(helm, "--set", "metrics.secure=false")
    granted = set().union(*(rules_of(r) for r in by_kind(docs, "ClusterRole").values()))
    assert granted & METRICS_REVIEW_RULES == set()
    assert f"{RELEASE}-metrics-reader" not in by_kind(docs, "ClusterRole")
    assert "--metrics-insecure" in operator_container(docs)["args"]


AGGREGATE = "rbac.authorization.k8s.io/aggregate-to-"


@pytest.mark.parametrize(
    ("role", "into"),
    [
        pytest.param("view", {"view", "edit", "admin"}, id="view"),
        pytest.param("edit", {"edit", "admin"}, id="edit"),
    ],
)
def test_aggregated_roles_reach_exactly_their_built_in_roles(
    default_docs: list[dict[str, Any]], role: str, into: set[str]
) -> None:
    labels = by_kind(default_docs, "ClusterRole")[f"{RELEASE}-{role}"]["metadata"]["labels"]
    reached = {k.removeprefix(AGGREGATE) for k, v in labels.items() if k.startswith(AGGREGATE)}
    assert reached == into
    assert {labels[AGGREGATE + r] for r in into} == {"true"}


def test_no_other_role_aggregates_into_the_built_in_roles(
    default_docs: list[dict[str, Any]],
) -> None:
    aggregating = [
        name
        for name, role in by_kind(default_docs, "ClusterRole").items()
        if any(k.startswith(AGGREGATE) for k in role["metadata"]["labels"])
    ]
    assert sorted(aggregating) == [f"{RELEASE}-edit", f"{RELEASE}-view"]


def test_aggregated_roles_can_be_left_out(helm: Path) -> None:
    roles = by_kind(render(helm, "--set", "rbac.aggregateClusterRoles=false"), "ClusterRole")
    assert {f"{RELEASE}-view", f"{RELEASE}-edit"} & set(roles) == set()
    assert RELEASE in roles


def test_the_created_by_policy_guards_scheduledruns_and_denies(
    default_docs: list[dict[str, Any]],
) -> None:
    policy = by_kind(default_docs, "ValidatingAdmissionPolicy")[f"{RELEASE}-created-by"]
    binding = by_kind(default_docs, "ValidatingAdmissionPolicyBinding")[f"{RELEASE}-created-by"]
    assert policy["spec"]["matchConstraints"]["resourceRules"] == [
        {"apiGroups": ["kagent.dev"], "apiVersions": ["*"], "operations": ["CREATE", "UPDATE"],
         "resources": ["scheduledruns"]}
    ]  # fmt: skip
    assert (policy["spec"]["failurePolicy"], binding["spec"]["validationActions"]) == (
        "Fail",
        ["Deny"],
    )
    assert binding["spec"]["policyName"] == policy["metadata"]["name"]


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["--set", "createdByPolicy.enabled=false"], id="disabled"),
        pytest.param(["--kube-version", "1.29.0"], id="before-kubernetes-1.30"),
    ],
)
def test_the_created_by_policy_can_be_left_out(helm: Path, args: list[str]) -> None:
    kinds = {d["kind"] for d in render(helm, *args)}
    assert not kinds & {"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"}


def test_rbac_create_false_renders_no_rbac(helm: Path) -> None:
    docs = render(helm, "--set", "rbac.create=false")
    rbac = [d["kind"] for d in docs if d["apiVersion"].startswith("rbac.")]
    assert rbac == []


# ---- values and schema ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["--set", "serviceMonitor.enable=true"], "additional properties 'enable'", id="typo-key"
        ),
        pytest.param(["--set", "a2a.protocol=0.4"], "protocol", id="bad-enum"),
        pytest.param(["--set-json", "a2a.protocol=1.0"], "protocol", id="number-not-string"),
        pytest.param(["--set", "metrics.port=http"], "port", id="string-not-int"),
        pytest.param(["--set", "metrics.port=70000"], "port", id="port-out-of-range"),
        pytest.param(["--set", "log.level=verbose"], "level", id="bad-log-level"),
        pytest.param(["--set", "rbac.create=yes"], "create", id="string-not-bool"),
        pytest.param(["--set", "watchNamespaces[0]=Team_A"], "watchNamespaces", id="bad-ns"),
        pytest.param(["--set", "a2a.baseUrl=kagent:8083"], "baseUrl", id="url-without-scheme"),
        pytest.param(["--set", "runner.image.pullPolicy=Sometimes"], "pullPolicy", id="policy"),
        pytest.param(["--set", "health.staleAfterSeconds=0"], "staleAfterSeconds", id="stale-0"),
    ],
)
def test_schema_rejects_bad_values(helm: Path, args: list[str], message: str) -> None:
    result = run_helm(
        helm, "template", RELEASE, str(CHART_DIR), "--kube-version", KUBE_VERSION, *args
    )
    assert result.returncode != 0
    assert "values don't meet the specifications of the schema" in result.stderr
    assert message in result.stderr


def _documented_keys(text: str) -> dict[str, str]:
    """values.yaml keys (dotted) that carry a `# --` comment, with the comment text."""
    documented: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    comment: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("# --"):
            comment = [stripped[4:].strip()]
        elif stripped.startswith("#") and comment:
            comment.append(stripped[1:].strip())
        elif stripped and not stripped.startswith("#") and not stripped.startswith("-"):
            indent = len(line) - len(line.lstrip(" "))
            key = stripped.split(":", 1)[0]
            while stack and stack[-1][0] >= indent:
                stack.pop()
            stack.append((indent, key))
            if comment:
                documented[".".join(k for _, k in stack)] = " ".join(comment)
            comment = []
        else:
            comment = [] if not stripped else comment
    return documented


def _leaves(value: Any, path: str = "") -> list[str]:
    if isinstance(value, dict) and value:
        return [leaf for k, v in value.items() for leaf in _leaves(v, f"{path}{k}.")]
    return [path.rstrip(".")]


VALUES_TEXT = (CHART_DIR / "values.yaml").read_text(encoding="utf-8")
DOCUMENTED = _documented_keys(VALUES_TEXT)


def test_every_value_is_documented() -> None:
    leaves = _leaves(yaml.safe_load(VALUES_TEXT))
    undocumented = [
        leaf
        for leaf in leaves
        if not any(leaf == key or leaf.startswith(f"{key}.") for key in DOCUMENTED)
    ]
    assert undocumented == []


@pytest.mark.parametrize("key", [pytest.param(k, id=k) for k in DOCUMENTED])
def test_readme_values_table_lists_the_value(key: str) -> None:
    readme = (CHART_DIR / "README.md").read_text(encoding="utf-8")
    assert f"| {key} |" in readme


def test_the_checked_in_readme_is_what_helm_docs_generates() -> None:
    """The values table is generated from values.yaml's `# --` comments, never kept by hand."""
    generated = subprocess.run(
        [str(binaries() / "helm-docs"), "--chart-search-root", ".", "--sort-values-order", "file",
         "--dry-run"],
        cwd=CHART_DIR, capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert generated == (CHART_DIR / "README.md").read_text(encoding="utf-8")


def test_schema_forbids_unknown_keys_at_every_fixed_level() -> None:
    schema = yaml.safe_load((CHART_DIR / "values.schema.json").read_text(encoding="utf-8"))

    def open_objects(node: dict[str, Any], path: str) -> list[str]:
        found = []
        if "properties" in node and node.get("additionalProperties") is not False:
            found.append(path or "<root>")
        for name, child in node.get("properties", {}).items():
            found += open_objects(child, f"{path}.{name}")
        return found

    assert open_objects(schema, "") == []
    values = yaml.safe_load(VALUES_TEXT)
    assert set(values) <= set(schema["properties"])


def test_chart_versions_follow_the_package() -> None:
    chart = yaml.safe_load((CHART_DIR / "Chart.yaml").read_text(encoding="utf-8"))
    pyproject = tomllib.loads((CHART_DIR.parents[1] / "pyproject.toml").read_text("utf-8"))
    assert chart["apiVersion"] == "v2"
    assert chart["version"] == "0.1.0"
    assert chart["appVersion"] == pyproject["project"]["version"]


# ---- the REST API server (server.enabled) -------------------------------------------------

SERVER = f"{RELEASE}-server"


def server_pod(docs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    pod: dict[str, Any] = by_kind(docs, "Deployment")[SERVER]["spec"]["template"]["spec"]
    return pod


def test_server_is_off_by_default(default_docs: list[dict[str, Any]]) -> None:
    assert not [d for d in default_docs if d["metadata"]["name"].endswith("-server")]


def test_server_objects_with_all_features(all_docs: list[dict[str, Any]]) -> None:
    server = {
        (d["kind"], d["metadata"]["name"])
        for d in all_docs
        if d["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "server"
    }
    assert server == {
        ("Deployment", SERVER),
        ("Service", SERVER),
        ("ServiceAccount", "scheduledrun-api"),
    }


def test_server_holds_no_kubernetes_credentials(all_docs: list[dict[str, Any]]) -> None:
    pod = server_pod(all_docs)
    assert pod["serviceAccountName"] == "scheduledrun-api"
    assert pod["automountServiceAccountToken"] is False
    assert (
        by_kind(all_docs, "ServiceAccount")["scheduledrun-api"]["automountServiceAccountToken"]
        is False
    )
    subjects = [
        s["name"]
        for kind in ("RoleBinding", "ClusterRoleBinding")
        for d in all_docs
        if d["kind"] == kind
        for s in d.get("subjects", [])
    ]
    assert "scheduledrun-api" not in subjects
    (container,) = pod["containers"]
    assert "--auth-mode=client" in container["args"]


def test_server_pod_meets_restricted_pod_security(all_docs: list[dict[str, Any]]) -> None:
    pod = server_pod(all_docs)
    (container,) = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }


def test_server_values_reach_the_pod_and_service(all_docs: list[dict[str, Any]]) -> None:
    deployment = by_kind(all_docs, "Deployment")[SERVER]
    (container,) = server_pod(all_docs)["containers"]
    service = by_kind(all_docs, "Service")[SERVER]
    assert deployment["spec"]["replicas"] == 2
    assert container["image"] == "registry.example.com/kagent/scheduledrun-operator:0.1.0-rc.1"
    assert container["ports"] == [{"name": "http", "containerPort": 8443, "protocol": "TCP"}]
    assert "--port=8443" in container["args"]
    # A create that names no namespace lands in the server's own, as kagent's does.
    assert f"--default-namespace={NAMESPACE}" in container["args"]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert service["spec"]["ports"] == [
        {"name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"}
    ]
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]


def test_server_args_parse_as_the_serve_command(all_docs: list[dict[str, Any]]) -> None:
    from server.cli import serve_command

    (container,) = server_pod(all_docs)["containers"]
    assert container["command"] == ["scheduledrun", "serve"]
    context = serve_command.make_context("serve", list(container["args"]))
    assert context.params["auth_mode"] == "client"
    assert context.params["host"] == "0.0.0.0"


def test_metrics_service_does_not_select_the_server(all_docs: list[dict[str, Any]]) -> None:
    selector = by_kind(all_docs, "Service")[f"{RELEASE}-metrics"]["spec"]["selector"]
    assert selector["app.kubernetes.io/component"] == "operator"
