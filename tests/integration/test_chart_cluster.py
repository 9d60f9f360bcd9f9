"""The Helm chart on the real control plane (kube-apiserver 1.34 built from source, loopback).

Covers: rendered manifests accepted by `kubectl apply --dry-run=server` (defaults and every
feature on), a wrongly typed value refused before anything is created, least privilege checked
with `kubectl auth can-i --as=system:serviceaccount:...` for the operator and the runner, a
rendered runner pod admitted in a namespace that enforces the "restricted" Pod Security
Standard, `helm install` / `helm uninstall` leaving only what the user owns, and what the
built-in `view`, `edit` and `admin` roles may do with ScheduledRuns once the chart's aggregated
roles are in them (the REST API's actions, permission by permission, as `server.access` lists
them).

Not covered here: the operator running with the chart's ServiceAccount token and reconciling
(the chart README shows how to get that token; the operator's cluster tests do it).
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from devcluster.cluster import ControlPlane, eventually
from server.access import ACTIONS
from tests.unit.test_chart import ALL_FEATURES
from tests.unit.test_crd_schema import CHART_DIR

pytestmark = pytest.mark.cluster


def monitoring_crd(kind: str, plural: str) -> dict[str, Any]:
    """Enough of a Prometheus Operator CRD for the API server to accept one of its objects."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.monitoring.coreos.com"},
        "spec": {
            "group": "monitoring.coreos.com",
            "scope": "Namespaced",
            "names": {"kind": kind, "plural": plural, "singular": kind.lower()},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                }
            ],
        },
    }


MONITORING_CRDS = [
    monitoring_crd("ServiceMonitor", "servicemonitors"),
    monitoring_crd("PrometheusRule", "prometheusrules"),
]


def helm(plane: ControlPlane, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(plane.bin_dir / "helm"), *args],
        capture_output=True,
        text=True,
        env=plane.env,
        timeout=120,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed:\n{result.stderr}")
    return result


def template(plane: ControlPlane, release: str, namespace: str, *args: str) -> str:
    # Offline `helm template` assumes a Kubernetes version; give it the server's.
    version = json.loads(plane.kubectl("version", "-o", "json").stdout)["serverVersion"]
    kube = ["--kube-version", version["gitVersion"]]
    return helm(plane, "template", release, str(CHART_DIR), "-n", namespace, *kube, *args).stdout


def can_i(plane: ControlPlane, who: str, verb: str, resource: str, namespace: str | None) -> bool:
    """`kubectl auth can-i` in a namespace, or across all namespaces when namespace is None.
    `resource/x` asks for the subresource x, except for serviceaccounts and rolebindings, where
    x is a name (`kubectl auth can-i patch serviceaccounts/NAME`)."""
    if resource.startswith(("serviceaccounts/", "rolebindings.")) and resource != (
        "serviceaccounts/token"
    ):
        subresource = ""
    else:
        resource, _, subresource = resource.partition("/")
    where = ["-A"] if namespace is None else ["-n", namespace]
    args = ["auth", "can-i", verb, resource, f"--as={who}", *where]
    if subresource:
        args.append(f"--subresource={subresource}")
    result = plane.kubectl(*args, check=False)
    assert result.stdout.strip() in ("yes", "no"), result.stderr
    return result.stdout.strip() == "yes"


@pytest.fixture
def release() -> str:
    return f"sr-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Installed:
    release: str
    namespace: str


@pytest.fixture(scope="module")
def installed(control_plane: ControlPlane) -> Iterator[Installed]:
    """The chart installed once for the module with default values, into a namespace of its
    own, plus the runner's ServiceAccount and RoleBinding that the operator would make there."""
    suffix = uuid.uuid4().hex[:8]
    found = Installed(release=f"sr-{suffix}", namespace=f"chart-{suffix}")
    control_plane.kubectl("create", "namespace", found.namespace)
    helm(control_plane, "install", found.release, str(CHART_DIR), "-n", found.namespace)
    bind_runner_like_the_operator(control_plane, found.release, found.namespace)
    yield found
    helm(control_plane, "uninstall", found.release, "-n", found.namespace, check=False)
    control_plane.kubectl("delete", "namespace", found.namespace, "--wait=false", check=False)


def service_account(release: str, namespace: str) -> str:
    return f"system:serviceaccount:{namespace}:{release}-kagent-scheduledrun"


def runner_account(namespace: str) -> str:
    return f"system:serviceaccount:{namespace}:kagent-scheduledrun-runner"


def bind_runner_like_the_operator(plane: ControlPlane, release: str, namespace: str) -> None:
    """What the operator does in a namespace with a ScheduledRun: the runner's ServiceAccount
    and a RoleBinding to the chart's runner ClusterRole (generator/operator/kube.py)."""
    objects = [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "kagent-scheduledrun-runner", "namespace": namespace},
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "kagent-scheduledrun-runner", "namespace": namespace},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": f"{release}-kagent-scheduledrun-runner",
            },
            "subjects": [
                {
                    "kind": "ServiceAccount",
                    "name": "kagent-scheduledrun-runner",
                    "namespace": namespace,
                }
            ],
        },
    ]
    plane.kubectl(
        "apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": objects})
    )


# ---- rendered manifests on the API server ----------------------------------------------------


def test_default_manifests_pass_server_dry_run(
    control_plane: ControlPlane, namespace: str, release: str
) -> None:
    manifests = template(control_plane, release, namespace)
    result = control_plane.kubectl("apply", "--dry-run=server", "-f", "-", input=manifests)
    assert result.stdout.count("(server dry run)") == len(
        [d for d in yaml.safe_load_all(manifests) if d]
    )


def test_all_features_manifests_pass_server_dry_run(
    control_plane: ControlPlane, namespace: str, release: str
) -> None:
    for crd in MONITORING_CRDS:
        control_plane.kubectl("apply", "-f", "-", input=json.dumps(crd))
        control_plane.kubectl(
            "wait", "--for=condition=Established", f"crd/{crd['metadata']['name']}"
        )
    manifests = template(
        control_plane,
        release,
        namespace,
        "--values",
        str(ALL_FEATURES),
        # The RoleBindings go into watched namespaces, which must exist.
        "--set-json",
        json.dumps([namespace]).join(["watchNamespaces=", ""]),
    )
    kinds = [d["kind"] for d in yaml.safe_load_all(manifests) if d]
    assert {"ServiceMonitor", "RoleBinding"} <= set(kinds)
    result = control_plane.kubectl("apply", "--dry-run=server", "-f", "-", input=manifests)
    assert result.stdout.count("(server dry run)") == len(kinds)


def test_wrongly_typed_value_is_refused_before_anything_is_created(
    control_plane: ControlPlane, namespace: str, release: str
) -> None:
    result = helm(
        control_plane,
        "install",
        release,
        str(CHART_DIR),
        "-n",
        namespace,
        "--set",
        "metrics.port=http",
        check=False,
    )
    assert result.returncode != 0
    assert "at '/metrics/port'" in result.stderr
    listed = helm(control_plane, "list", "-n", namespace, "-q").stdout.split()
    assert release not in listed
    leftovers = control_plane.kubectl(
        "get", "clusterroles", "-l", f"app.kubernetes.io/instance={release}", "-o", "name"
    )
    assert leftovers.stdout.strip() == ""


# ---- least privilege --------------------------------------------------------------------------

# (verb, resource[/subresource], allowed) for the operator's ServiceAccount.
OPERATOR_CAN = [
    ("list", "scheduledruns.kagent.dev", True),
    ("watch", "scheduledruns.kagent.dev", True),
    ("patch", "scheduledruns.kagent.dev/status", True),
    ("update", "scheduledruns.kagent.dev", False),
    ("delete", "scheduledruns.kagent.dev", False),
    ("watch", "agents.kagent.dev", True),
    ("watch", "sandboxagents.kagent.dev", True),
    ("create", "agents.kagent.dev", False),
    ("create", "cronjobs.batch", True),
    ("update", "cronjobs.batch", True),
    ("patch", "cronjobs.batch", True),
    ("delete", "cronjobs.batch", False),
    ("watch", "jobs.batch", True),
    ("create", "jobs.batch", False),
    ("create", "events", True),
    # The runner's ServiceAccount and RoleBinding by name only (server-side apply, which names
    # the object also when it creates it): no other account or binding, no unnamed create.
    ("patch", "serviceaccounts/kagent-scheduledrun-runner", True),
    ("get", "serviceaccounts/kagent-scheduledrun-runner", True),
    ("get", "serviceaccounts/default", False),
    ("create", "serviceaccounts/kagent-scheduledrun-runner", True),
    ("patch", "serviceaccounts/default", False),
    ("create", "serviceaccounts/default", False),
    ("patch", "serviceaccounts", False),
    ("create", "serviceaccounts", False),
    ("patch", "rolebindings.rbac.authorization.k8s.io/kagent-scheduledrun-runner", True),
    ("get", "rolebindings.rbac.authorization.k8s.io/kagent-scheduledrun-runner", True),
    ("create", "rolebindings.rbac.authorization.k8s.io/kagent-scheduledrun-runner", True),
    ("patch", "rolebindings.rbac.authorization.k8s.io/admin", False),
    ("create", "rolebindings.rbac.authorization.k8s.io/admin", False),
    ("patch", "rolebindings.rbac.authorization.k8s.io", False),
    ("create", "rolebindings.rbac.authorization.k8s.io", False),
    ("create", "roles.rbac.authorization.k8s.io", False),
    ("create", "serviceaccounts/token", False),
    ("get", "secrets", False),
    ("list", "secrets", False),
    ("get", "configmaps", False),
    ("create", "pods", False),
    ("create", "pods/exec", False),
    ("get", "pods/log", False),
    ("delete", "namespaces", False),
]


@pytest.mark.parametrize(
    ("verb", "resource", "allowed"),
    [pytest.param(v, r, a, id=f"{v}-{r}") for v, r, a in OPERATOR_CAN],
)
def test_operator_service_account_has_exactly_its_permissions(
    control_plane: ControlPlane, installed: Installed, verb: str, resource: str, allowed: bool
) -> None:
    who = service_account(installed.release, installed.namespace)
    assert can_i(control_plane, who, verb, resource, installed.namespace) is allowed


# What kopf does cluster-wide with the default install (--all-namespaces): list and watch
# across all namespaces, scan CRDs; it has no need to list namespaces then.
OPERATOR_CLUSTER_WIDE = [
    *[
        (verb, resource, True)
        for resource in (
            "scheduledruns.kagent.dev",
            "agents.kagent.dev",
            "sandboxagents.kagent.dev",
            "cronjobs.batch",
            "jobs.batch",
            "customresourcedefinitions.apiextensions.k8s.io",
        )
        for verb in ("list", "watch")
    ],
    ("list", "namespaces", False),
    ("list", "secrets", False),
    ("list", "pods", False),
    # Secure metrics (metrics.secure, the default): review the scraper's token and access.
    ("create", "tokenreviews.authentication.k8s.io", True),
    ("create", "subjectaccessreviews.authorization.k8s.io", True),
]


@pytest.mark.parametrize(
    ("verb", "resource", "allowed"),
    [pytest.param(v, r, a, id=f"{v}-{r}") for v, r, a in OPERATOR_CLUSTER_WIDE],
)
def test_operator_cluster_wide_permissions(
    control_plane: ControlPlane, installed: Installed, verb: str, resource: str, allowed: bool
) -> None:
    who = service_account(installed.release, installed.namespace)
    assert can_i(control_plane, who, verb, resource, None) is allowed


def test_operator_may_bind_only_the_runner_cluster_role(
    control_plane: ControlPlane, installed: Installed
) -> None:
    who = service_account(installed.release, installed.namespace)
    runner_role = (
        f"clusterroles.rbac.authorization.k8s.io/{installed.release}-kagent-scheduledrun-runner"
    )
    for name, allowed in [(runner_role, True), ("clusterroles/cluster-admin", False)]:
        result = control_plane.kubectl("auth", "can-i", "bind", name, f"--as={who}", check=False)
        assert (result.stdout.strip() == "yes") is allowed, name


# (verb, resource[/subresource], allowed) for a runner pod's ServiceAccount, in its namespace.
RUNNER_CAN = [
    ("get", "scheduledruns.kagent.dev", True),
    ("patch", "scheduledruns.kagent.dev/status", True),
    ("get", "jobs.batch", True),
    ("patch", "scheduledruns.kagent.dev", False),
    ("update", "scheduledruns.kagent.dev", False),
    ("delete", "scheduledruns.kagent.dev", False),
    ("create", "scheduledruns.kagent.dev", False),
    ("patch", "jobs.batch", False),
    ("patch", "cronjobs.batch", False),
    ("get", "secrets", False),
    ("list", "secrets", False),
    ("create", "pods", False),
    ("create", "jobs.batch", False),
    ("create", "events", False),
    ("get", "agents.kagent.dev", False),
]


@pytest.mark.parametrize(
    ("verb", "resource", "allowed"),
    [pytest.param(v, r, a, id=f"{v}-{r}") for v, r, a in RUNNER_CAN],
)
def test_runner_service_account_has_exactly_its_permissions(
    control_plane: ControlPlane, installed: Installed, verb: str, resource: str, allowed: bool
) -> None:
    who = runner_account(installed.namespace)
    assert can_i(control_plane, who, verb, resource, installed.namespace) is allowed


def test_runner_permissions_stop_at_its_namespace(
    control_plane: ControlPlane, installed: Installed
) -> None:
    who = runner_account(installed.namespace)
    assert can_i(control_plane, who, "get", "scheduledruns.kagent.dev", installed.namespace)
    assert can_i(control_plane, who, "get", "scheduledruns.kagent.dev", "default") is False


# ---- the built-in roles, with the chart's aggregated ScheduledRun rights -------------------------

BUILT_IN_ROLES = ("view", "edit", "admin")
# What each built-in role may do with ScheduledRuns in a namespace it is bound in: reading, each
# REST API action (server.access.ACTIONS, every permission the route uses), and writing the
# status, which is only the operator's and the runner's.
READ = (("kagent.dev", "scheduledruns", "get"), ("kagent.dev", "scheduledruns", "list"),
        ("kagent.dev", "scheduledruns", "watch"))  # fmt: skip
WRITE_STATUS = (("kagent.dev", "scheduledruns/status", "patch"),)
ROLE_MAY = {
    "view": {"read": True, **dict.fromkeys(ACTIONS, False), "write-status": False},
    "edit": {"read": True, **dict.fromkeys(ACTIONS, True), "write-status": False},
    "admin": {"read": True, **dict.fromkeys(ACTIONS, True), "write-status": False},
    "none": {"read": False, **dict.fromkeys(ACTIONS, False), "write-status": False},
}


def kubectl_resource(group: str, resource: str) -> str:
    """A (group, resource) as kubectl names it: scheduledruns.kagent.dev/status."""
    name, slash, subresource = resource.partition("/")
    return f"{name}.{group}{slash}{subresource}" if group else resource


def holder(role: str) -> str:
    return f"{role}-holder@example.com"


@pytest.fixture(scope="module")
def role_holders(control_plane: ControlPlane, installed: Installed) -> Installed:
    """One user bound to each built-in role in the chart's namespace (and one bound to none),
    once the clusterrole-aggregation controller has put the chart's rules into the roles."""
    for role in BUILT_IN_ROLES:
        binding = [f"{role}-holder", f"--clusterrole={role}", f"--user={holder(role)}"]
        control_plane.kubectl("-n", installed.namespace, "create", "rolebinding", *binding)

    def aggregated() -> bool:
        for role in BUILT_IN_ROLES:
            found = json.loads(
                control_plane.kubectl("get", "clusterrole", role, "-o", "json").stdout
            )
            if not any("scheduledruns" in r.get("resources", []) for r in found["rules"] or []):
                return False
        return True

    eventually("the chart's rules in the built-in roles", aggregated)
    return installed


@pytest.mark.parametrize(
    ("role", "action", "allowed"),
    [
        pytest.param(role, action, allowed, id=f"{role}-{action}")
        for role, actions in ROLE_MAY.items()
        for action, allowed in actions.items()
    ],
)
def test_built_in_roles_may_use_scheduledruns_as_the_chart_says(
    control_plane: ControlPlane, role_holders: Installed, role: str, action: str, allowed: bool
) -> None:
    needed = {"read": READ, "write-status": WRITE_STATUS, **ACTIONS}[action]
    granted = {
        f"{verb} {kubectl_resource(group, resource)}": can_i(
            control_plane, holder(role), verb, kubectl_resource(group, resource),
            role_holders.namespace,
        )
        for group, resource, verb in needed
    }  # fmt: skip
    assert all(granted.values()) is allowed, granted


def test_view_cannot_run_now_because_it_cannot_create_jobs(
    control_plane: ControlPlane, role_holders: Installed
) -> None:
    who, ns = holder("view"), role_holders.namespace
    assert can_i(control_plane, who, "get", "cronjobs.batch", ns)
    assert not can_i(control_plane, who, "create", "jobs.batch", ns)


def test_role_rights_stop_at_the_bound_namespace(
    control_plane: ControlPlane, role_holders: Installed
) -> None:
    assert can_i(control_plane, holder("edit"), "create", "scheduledruns.kagent.dev",
                 role_holders.namespace)  # fmt: skip
    assert not can_i(control_plane, holder("edit"), "create", "scheduledruns.kagent.dev",
                     "default")  # fmt: skip


# ---- pod security ----------------------------------------------------------------------------


def rendered_runner_pod(
    control_plane: ControlPlane, release: str, namespace: str
) -> dict[str, Any]:
    """The runner pod the operator would create from the chart's own operator arguments."""
    from generator.cli.operator import operator_command
    from generator.cronjob.config import OperatorConfig
    from generator.cronjob.render import render_cronjob

    docs = yaml.safe_load_all(template(control_plane, release, namespace))
    deployment = next(d for d in docs if d and d["kind"] == "Deployment")
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    params = operator_command.make_context("operator", list(args)).params
    settings = OperatorConfig(
        runner_image=params["runner_image"],
        image_pull_policy=params["runner_image_pull_policy"],
        a2a_base_url=params["a2a_base_url"],
        a2a_protocol=params["a2a_protocol"],
        runner_service_account=params["runner_service_account"],
    )
    scheduledrun = {
        "apiVersion": "kagent.dev/v1alpha2",
        "kind": "ScheduledRun",
        "metadata": {"name": "nightly-report", "namespace": namespace},
        "spec": {
            "schedule": "0 6 * * *",
            "timeZone": "UTC",
            "targetRef": {"apiGroup": "kagent.dev", "kind": "Agent", "name": "my-agent"},
            "prompt": "Summarise yesterday's alerts.",
            "suspend": False,
            "concurrencyPolicy": "Forbid",
            "timeout": "15m",
            "maxRunHistory": 10,
        },
    }
    template_ = render_cronjob(scheduledrun, settings)["spec"]["jobTemplate"]["spec"]["template"]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {**template_["metadata"], "name": "runner-pod", "namespace": namespace},
        "spec": template_["spec"],
    }


def test_runner_pod_is_admitted_under_restricted_pod_security(
    control_plane: ControlPlane, namespace: str, release: str
) -> None:
    labels = control_plane.kubectl("get", "namespace", namespace, "-o", "json").stdout
    assert json.loads(labels)["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == (
        "restricted"
    )
    control_plane.kubectl("create", "serviceaccount", "kagent-scheduledrun-runner", "-n", namespace)
    pod = rendered_runner_pod(control_plane, release, namespace)
    result = control_plane.kubectl(
        "create", "--dry-run=server", "-f", "-", input=json.dumps(pod), check=False
    )
    assert result.returncode == 0, result.stderr


def test_restricted_namespace_does_refuse_a_pod_without_the_security_settings(
    control_plane: ControlPlane, namespace: str, release: str
) -> None:
    # The control for the test above: the namespace really enforces "restricted".
    control_plane.kubectl("create", "serviceaccount", "kagent-scheduledrun-runner", "-n", namespace)
    pod = rendered_runner_pod(control_plane, release, namespace)
    del pod["spec"]["containers"][0]["securityContext"]
    result = control_plane.kubectl(
        "create", "--dry-run=server", "-f", "-", input=json.dumps(pod), check=False
    )
    assert result.returncode != 0
    assert "violates PodSecurity" in result.stderr


# ---- install and uninstall -------------------------------------------------------------------


def test_install_shows_notes_with_the_next_commands(
    control_plane: ControlPlane, installed: Installed
) -> None:
    namespace, release = installed.namespace, installed.release
    notes = helm(control_plane, "get", "notes", release, "-n", namespace).stdout
    for command in (
        "kubectl get scheduledruns",
        "kubectl create job --from=cronjob/nightly-report",
        "runHistory",
        f"kubectl -n {namespace} rollout status deployment/{release}-kagent-scheduledrun",
    ):
        assert command in notes


CHART_KINDS = "deployments,services,serviceaccounts,rolebindings,clusterroles,clusterrolebindings"


def test_uninstall_leaves_only_what_the_user_owns(
    control_plane: ControlPlane, namespace: str, release: str
) -> None:
    helm(control_plane, "install", release, str(CHART_DIR), "-n", namespace)
    selector = f"app.kubernetes.io/instance={release}"
    made = control_plane.kubectl("get", CHART_KINDS, "-A", "-l", selector, "-o", "name").stdout
    assert len(made.split()) == 11  # with -metrics-reader (metrics.secure), -view and -edit
    scheduledrun = {
        "apiVersion": "kagent.dev/v1alpha2",
        "kind": "ScheduledRun",
        "metadata": {"name": "kept", "namespace": namespace},
        "spec": {"schedule": "@daily", "targetRef": {"kind": "Agent", "name": "a"}, "prompt": "p"},
    }
    control_plane.kubectl("apply", "-f", "-", input=json.dumps(scheduledrun))

    helm(control_plane, "uninstall", release, "-n", namespace, "--wait")

    left = control_plane.kubectl("get", CHART_KINDS, "-A", "-l", selector, "-o", "name").stdout
    assert left.split() == []
    # Helm never deletes CRDs, so the user's ScheduledRuns (and the API) survive an uninstall.
    control_plane.kubectl("get", "crd", "scheduledruns.kagent.dev")
    control_plane.kubectl("get", "scheduledrun", "kept", "-n", namespace)


# ---- the REST API server (server.enabled) ----------------------------------------------------


def test_server_pod_is_admitted_under_restricted_pod_security(
    control_plane: ControlPlane, namespace: str, release: str
) -> None:
    rendered = template(control_plane, release, namespace, "--set", "server.enabled=true")
    (deployment,) = [
        d
        for d in yaml.safe_load_all(rendered)
        if d and d["kind"] == "Deployment" and d["metadata"]["name"].endswith("-server")
    ]
    control_plane.kubectl("create", "serviceaccount", f"{release}-kagent-scheduledrun-server",
                          "-n", namespace)  # fmt: skip
    pod_template = deployment["spec"]["template"]
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {**pod_template["metadata"], "name": "server-pod", "namespace": namespace},
        "spec": pod_template["spec"],
    }
    result = control_plane.kubectl(
        "create", "--dry-run=server", "-f", "-", input=json.dumps(pod), check=False
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def installed_with_server(control_plane: ControlPlane) -> Iterator[Installed]:
    suffix = uuid.uuid4().hex[:8]
    found = Installed(release=f"sr-{suffix}", namespace=f"chart-{suffix}")
    control_plane.kubectl("create", "namespace", found.namespace)
    helm(control_plane, "install", found.release, str(CHART_DIR), "-n", found.namespace,
         "--set", "server.enabled=true", "--skip-crds")  # fmt: skip
    yield found
    helm(control_plane, "uninstall", found.release, "-n", found.namespace, check=False)
    control_plane.kubectl("delete", "namespace", found.namespace, "--wait=false", check=False)


@pytest.mark.parametrize(
    ("verb", "resource"),
    [
        pytest.param(verb, resource, id=f"{verb}-{resource}")
        for resource in ("scheduledruns.kagent.dev", "jobs.batch", "cronjobs.batch", "secrets")
        for verb in ("get", "list", "create")
    ],
)
def test_server_service_account_may_do_nothing(
    control_plane: ControlPlane, installed_with_server: Installed, verb: str, resource: str
) -> None:
    """The server acts with its callers' tokens only: the chart binds its account to no role."""
    found = installed_with_server
    who = f"system:serviceaccount:{found.namespace}:{found.release}-kagent-scheduledrun-server"
    account = control_plane.kubectl(
        "-n", found.namespace, "get", "serviceaccount", who.rsplit(":", 1)[1], "-o", "json"
    ).stdout
    assert json.loads(account)["automountServiceAccountToken"] is False
    assert can_i(control_plane, who, verb, resource, found.namespace) is False
    assert can_i(control_plane, who, verb, resource, None) is False


# ---- who may name a ScheduledRun's creator (the created-by ValidatingAdmissionPolicy) ----------

CREATED_BY = "kagent.dev/created-by"


def apply_as(
    plane: ControlPlane, who: str, namespace: str, name: str, creator: str | None, prompt: str
) -> subprocess.CompletedProcess[str]:
    """`kubectl apply` of a ScheduledRun as `who` (impersonated by the admin)."""
    annotations = {} if creator is None else {CREATED_BY: creator}
    body = {
        "apiVersion": "kagent.dev/v1alpha2",
        "kind": "ScheduledRun",
        "metadata": {"name": name, "namespace": namespace, "annotations": annotations},
        "spec": {"schedule": "@daily", "targetRef": {"kind": "Agent", "name": "a"},
                 "prompt": prompt},
    }  # fmt: skip
    return plane.kubectl("apply", f"--as={who}", "-f", "-", input=json.dumps(body), check=False)


def creator_of(plane: ControlPlane, namespace: str, name: str) -> str | None:
    found = json.loads(plane.kubectl("-n", namespace, "get", "sr", name, "-o", "json").stdout)
    return (found["metadata"].get("annotations") or {}).get(CREATED_BY)


@pytest.mark.parametrize(
    ("claim", "allowed"),
    [
        pytest.param(None, True, id="no-creator"),
        pytest.param(holder("edit"), True, id="own-name"),
        pytest.param("admin@kagent.dev", False, id="kagents-default-user"),
        pytest.param(holder("admin"), False, id="a-colleague"),
    ],
)
def test_an_editor_may_name_only_themself_as_creator(
    control_plane: ControlPlane, role_holders: Installed, claim: str | None, allowed: bool
) -> None:
    ns, name = role_holders.namespace, f"claim-{uuid.uuid4().hex[:6]}"
    result = apply_as(control_plane, holder("edit"), ns, name, claim, "p")
    assert (result.returncode == 0) is allowed, result.stderr
    if not allowed:
        assert (
            f"kagent.dev/created-by may name only yourself ({holder('edit')}), not {claim}"
            in result.stderr
        )
        gone = control_plane.kubectl("-n", ns, "get", "sr", name, check=False)
        assert gone.returncode != 0  # nothing was created


def test_a_colleague_edits_a_schedule_and_it_stays_its_creators(
    control_plane: ControlPlane, role_holders: Installed
) -> None:
    ns, name = role_holders.namespace, f"shared-{uuid.uuid4().hex[:6]}"
    made = apply_as(control_plane, holder("admin"), ns, name, holder("admin"), "first")
    assert made.returncode == 0, made.stderr

    edited = apply_as(control_plane, holder("edit"), ns, name, holder("admin"), "second")
    assert edited.returncode == 0, edited.stderr
    forged = apply_as(control_plane, holder("edit"), ns, name, "admin@kagent.dev", "third")
    assert forged.returncode != 0
    assert "may name only yourself" in forged.stderr

    assert creator_of(control_plane, ns, name) == holder("admin")


def test_whoever_may_impersonate_a_user_may_name_them(
    control_plane: ControlPlane, role_holders: Installed
) -> None:
    """The named exception: Kubernetes' `impersonate` permission on that user (cluster admins
    hold it for everyone)."""
    ns, suffix = role_holders.namespace, uuid.uuid4().hex[:6]
    role = f"impersonate-alice-{suffix}"
    control_plane.kubectl("create", "clusterrole", role, "--verb=impersonate",
                          "--resource=users", "--resource-name=alice@example.com")  # fmt: skip
    control_plane.kubectl("create", "clusterrolebinding", role, f"--clusterrole={role}",
                          f"--user={holder('edit')}")  # fmt: skip
    try:

        def may_impersonate() -> bool:
            return can_i(control_plane, holder("edit"), "impersonate", "users", None) or (
                control_plane.kubectl("auth", "can-i", "impersonate", "users/alice@example.com",
                                      f"--as={holder('edit')}", check=False).stdout.strip()
                == "yes"
            )  # fmt: skip

        eventually("the impersonation grant to apply", may_impersonate)
        for creator, allowed in [("alice@example.com", True), ("bob@example.com", False)]:
            name = f"for-{creator.split('@')[0]}-{suffix}"
            result = apply_as(control_plane, holder("edit"), ns, name, creator, "p")
            assert (result.returncode == 0) is allowed, (creator, result.stderr)
    finally:
        control_plane.kubectl("delete", "clusterrolebinding,clusterrole", role, check=False)
