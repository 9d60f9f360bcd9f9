"""Property: nothing a user or an operator flag supplies can become structure in the CronJob.

Over arbitrary prompts, names (valid DNS names up to 253 characters), agent names, namespaces,
uids, runner images and A2A base URLs, full of quotes, newlines, `{{ }}`, `{% %}`, `: `, `#`,
`---`, YAML line breaks (NEL, LS, PS) and non-ASCII, the rendered CronJob has exactly the same set
of key paths, each value comes back as the very string that went in, and the prompt is nowhere in
it. Covers `render_cronjob` only; what Kubernetes accepts is test_render_kubectl.py's job.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from generator.cronjob.render import (
    OperatorConfig,
    cronjob_name,
    label_value,
    render_cronjob,
    render_cronjob_text,
)
from runner import api
from tests import builders

NASTY = [
    '"', "'", "\\", "\n", "\r\n", "\t", "{{ x }}", "{{", "}}", "{% if true %}", "{%", "%}",
    "{# c #}", ": ", "#", " # c", "---", "...", "- ", "[", "]", "{", "}", "&a", "*a", "!!python",
    "|", ">", "%", "@", "`", "null", "true", "~", "0x1F", "1e3", "\x85", "\u2028", "\u2029",
    "\ufeff", "\x7f", "\x00", "\x1b", "ü", "日本語", "😀", "\U0001f600\u200d", "\ufffe",
]  # fmt: skip

fragments = st.one_of(st.text(min_size=1), st.sampled_from(NASTY))
hostile_text = st.lists(fragments, max_size=8).map("".join)
nonempty_text = st.lists(fragments, min_size=1, max_size=8).map("".join)
# The prompt carries a marker no other input holds, to search the whole CronJob for it.
PROMPT_MARK = "\u00abprompt\u00bb"
other_text = hostile_text.filter(lambda s: PROMPT_MARK not in s)

dns_label = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", fullmatch=True)
dns_name = st.lists(dns_label, min_size=1, max_size=5).map(".".join).filter(lambda s: len(s) <= 253)
long_dns_name = st.integers(min_value=53, max_value=253).flatmap(
    lambda n: st.just("n" * (n - 2) + "-z")
)
names = st.one_of(dns_name, long_dns_name)

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def scheduledrun(name: str, namespace: str, uid: str, agent: str, prompt: str) -> dict[str, Any]:
    return builders.scheduledrun(
        name,
        namespace,
        uid=uid,
        generation=7,
        schedule="*/5 * * * *",
        target=agent,
        api_group="kagent.dev",
        prompt=prompt,
        timeZone="Europe/Berlin",
        startingDeadlineSeconds=60,
        timeout="10m",
    )


def key_paths(obj: Any, prefix: tuple[Any, ...] = ()) -> set[tuple[Any, ...]]:
    """Every path to a leaf, with list positions, and the type of the leaf."""
    if isinstance(obj, dict):
        return set().union(*(key_paths(v, (*prefix, k)) for k, v in obj.items()))
    if isinstance(obj, list):
        return set().union(*(key_paths(v, (*prefix, i)) for i, v in enumerate(obj)))
    return {(*prefix, type(obj).__name__)}


def leaves(obj: Any) -> list[Any]:
    if isinstance(obj, dict):
        return [leaf for v in obj.values() for leaf in leaves(v)]
    if isinstance(obj, list):
        return [leaf for v in obj for leaf in leaves(v)]
    return [obj]


REFERENCE = render_cronjob(
    scheduledrun("ref", "ns", "uid", "agent", "prompt"),
    OperatorConfig(runner_image="img", a2a_base_url="http://x"),
)


@settings(max_examples=300, deadline=None, phases=[Phase.explicit, Phase.generate, Phase.shrink])
@given(
    name=names,
    namespace=dns_label,
    uid=nonempty_text.filter(lambda s: PROMPT_MARK not in s),
    agent=names,
    prompt=hostile_text.map(lambda s: PROMPT_MARK + s),
    image=other_text,
    url=other_text,
)
def test_user_text_never_becomes_structure(
    name: str, namespace: str, uid: str, agent: str, prompt: str, image: str, url: str
) -> None:
    sr = scheduledrun(name, namespace, uid, agent, prompt)
    operator_settings = OperatorConfig(runner_image=image, a2a_base_url=url)
    cronjob = render_cronjob(sr, operator_settings)

    assert key_paths(cronjob) == key_paths(REFERENCE)
    # Every character of user text is escaped in the template's JSON, and the result is plain
    # data that YAML (as printed with escapes) reads back as the very same object.
    assert render_cronjob_text(sr, operator_settings).isascii()
    assert yaml.safe_load(yaml.safe_dump(cronjob, sort_keys=False)) == cronjob

    meta = cronjob["metadata"]
    container = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert meta["name"] == cronjob_name(name)
    assert meta["namespace"] == namespace
    assert meta["annotations"]["kagent.dev/scheduledrun-name"] == name
    assert meta["ownerReferences"][0]["name"] == name
    assert meta["ownerReferences"][0]["uid"] == uid
    assert container["image"] == image
    assert env[api.ENV_A2A_BASE_URL] == url
    assert container["args"] == ["--namespace", namespace, "--name", name]

    assert all(PROMPT_MARK not in str(leaf) for leaf in leaves(cronjob))

    # A valid object shape: names and labels Kubernetes accepts, string annotations and env.
    assert len(meta["name"]) <= 52
    assert DNS_SUBDOMAIN.match(meta["name"])
    assert len(name) <= 52 or DNS_LABEL.match(meta["name"])
    for labels in (
        meta["labels"],
        cronjob["spec"]["jobTemplate"]["metadata"]["labels"],
        cronjob["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"],
    ):
        assert labels[api.LABEL_SCHEDULEDRUN] == label_value(name)
        assert all(len(v) <= 63 and LABEL_VALUE.match(v) for v in labels.values())
    assert all(isinstance(v, str) for v in meta["annotations"].values())
    assert all(ENV_NAME.match(e["name"]) for e in container["env"])
