"""The web UI's modules are pinned to the server: what the server knows (spec fields, defaults,
enums, kinds, apiVersion, condition types, actions) reaches the page from `/api/openapi.json`
and `/api/access`, never from a copy of its own.

The UI's pure modules (`model.js`, `names.js`, `fields.js`) run here in Node on the app's own
document; the source of every module is read for literals that would be a second copy. Types are
checked by `tsc` in scripts/test.sh; what the page does in a browser is in tests/e2e/test_ui.py.
"""

from __future__ import annotations

import json
import re
import shutil
import ssl
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from runner import api
from runner.conditions import ConditionType, Reason
from server.access import ACTIONS
from server.app import create_app
from server.auth import AuthMode
from server.config import ServerConfig
from server.kube import Cluster
from server.webui import UI_DIR

ROOT = Path(__file__).resolve().parents[2]
CRD = ROOT / "charts" / "kagent-scheduledrun" / "crds" / "scheduledruns.yaml"
MODULES = sorted(UI_DIR.rglob("*.js"))
# The one module that names the server's enum values the UI gives a meaning of its own.
NAMES = UI_DIR / "names.js"
# The one module that names spec fields: the labels and groups of the ones it has words for.
FIELDS = UI_DIR / "fields.js"


@cache
def crd_schema() -> dict[str, Any]:
    crd = yaml.safe_load(CRD.read_text())
    version = next(v for v in crd["spec"]["versions"] if v["name"] == api.VERSION)
    schema: dict[str, Any] = version["schema"]["openAPIV3Schema"]
    return schema


def spec_fields() -> list[str]:
    return list(crd_schema()["properties"]["spec"]["properties"])


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    cluster = Cluster("https://127.0.0.1:1", ssl.create_default_context())
    return create_app(ServerConfig(AuthMode.CLIENT, cluster)).openapi()


def node(script: str, *args: str) -> Any:
    """Run an ES module script in Node (argv[1:] = args) and read the JSON it prints."""
    assert shutil.which("node"), "these tests need Node.js (node 20 or newer)"
    result = subprocess.run(
        ["node", "--input-type=module", "-e", script, *args],
        capture_output=True, text=True, timeout=60, check=False, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def module_url(path: Path) -> str:
    return path.resolve().as_uri()


MODEL_SCRIPT = """
import { readFileSync } from 'node:fs';
const { Model } = await import(process.argv[1]);
const m = new Model(JSON.parse(readFileSync(process.argv[2], 'utf8')));
console.log(JSON.stringify({
  apiVersion: m.apiVersion, kind: m.kind, fields: m.fields().map(([name]) => name),
  targetKinds: m.targetKinds, targetGroup: m.targetGroup, conditionTypes: m.conditionTypes,
  runStatuses: m.runStatuses, actions: m.actions,
  defaults: Object.fromEntries(m.fields().map(([name]) => [name, m.defaultOf(name) ?? null])),
}));
"""


def read_model(document: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(document))
    model: dict[str, Any] = node(MODEL_SCRIPT, module_url(UI_DIR / "model.js"), str(path))
    return model


def test_the_ui_takes_what_it_writes_from_the_servers_document(
    document: dict[str, Any], tmp_path: Path
) -> None:
    model = read_model(document, tmp_path)
    spec = crd_schema()["properties"]["spec"]["properties"]
    assert (model["apiVersion"], model["kind"]) == ("kagent.dev/v1alpha2", "ScheduledRun")
    assert model["fields"] == spec_fields()
    assert model["defaults"] == {name: s.get("default") for name, s in spec.items()}
    assert (model["targetKinds"], model["targetGroup"]) == (["Agent", "SandboxAgent"], api.GROUP)
    assert model["conditionTypes"] == [str(t) for t in ConditionType]
    run_status = crd_schema()["properties"]["status"]["properties"]["lastRunStatus"]["enum"]
    assert model["runStatuses"] == run_status
    assert model["actions"] == list(ACTIONS)


def test_a_page_that_names_a_value_the_server_lacks_says_so(
    document: dict[str, Any], tmp_path: Path
) -> None:
    """A renamed condition type fails loudly when the page loads, not as a wrong badge."""
    older = json.loads(json.dumps(document))
    enum = older["components"]["schemas"]["ConditionType"]["enum"]
    enum.remove(str(ConditionType.PAUSED))
    with pytest.raises(AssertionError, match="the server knows no condition type Paused"):
        read_model(older, tmp_path)


NAMES_SCRIPT = """
const names = await import(process.argv[1]);
const fields = await import(process.argv[2]);
console.log(JSON.stringify({ ...names, LOOKS: Object.keys(fields.LOOKS) }));
"""


def test_every_value_the_ui_names_is_the_servers(document: dict[str, Any]) -> None:
    named = node(NAMES_SCRIPT, module_url(NAMES), module_url(FIELDS))
    status = crd_schema()["properties"]["status"]["properties"]
    dst_kinds = document["components"]["schemas"]["DstChange"]["properties"]["kind"]["enum"]
    assert set(named["CONDITION"].values()) <= {str(t) for t in ConditionType}
    assert set(named["RUN_STATUS"].values()) <= set(status["lastRunStatus"]["enum"])
    assert set(named["ACTION"].values()) == set(ACTIONS)
    assert set(named["DST"].values()) <= set(dst_kinds)
    assert set(named["LOOKS"]) <= set(spec_fields()), "a label for a field the CRD lacks"


def _enum_values(schema: Any) -> set[str]:
    """Every string enum value and string default anywhere in a schema."""
    found: set[str] = set()
    if isinstance(schema, dict):
        found.update(v for v in schema.get("enum", []) if isinstance(v, str))
        if isinstance(schema.get("default"), str):
            found.add(schema["default"])
        for value in schema.values():
            found |= _enum_values(value)
    elif isinstance(schema, list):
        for value in schema:
            found |= _enum_values(value)
    return found


def server_values() -> set[str]:
    """What a copy in the UI would repeat: the CRD's enums and string defaults (spec and
    status), condition types and reasons, the API group, version and kind."""
    properties = crd_schema()["properties"]
    values = _enum_values(properties["spec"]) | _enum_values(properties["status"])
    values -= {"True", "False", "Unknown"}  # metav1.Condition's status, not this API's
    values |= {str(t) for t in ConditionType} | {str(r) for r in Reason}
    return values | {api.GROUP, api.VERSION, api.API_VERSION, api.KIND}


_COMMENTS = re.compile(r"/\*[\s\S]*?\*/|(?:^|\s)//.*$", re.MULTILINE)
_LITERAL = re.compile(r"'((?:[^'\\\n]|\\.)*)'|\"((?:[^\"\\\n]|\\.)*)\"")


def literals(path: Path) -> list[tuple[str, str]]:
    """Each string literal of a module's code (comments left out), with the code before it."""
    code = _COMMENTS.sub("", path.read_text())
    return [
        (
            m.group(1) if m.group(1) is not None else m.group(2),
            code[max(0, m.start() - 40) : m.start()],
        )
        for m in _LITERAL.finditer(code)
    ]


def test_the_literal_reader_sees_code_not_comments(tmp_path: Path) -> None:
    """The scan below is only as good as this."""
    sample = tmp_path / "sample.js"
    sample.write_text(
        "// the 'Accepted' condition\n/** @type {'Paused'} */\n"
        "const a = 'Forbid'; const b = \"it's\"; // 'Allow'\nconst c = /^https?:\\/\\//;\n"
    )
    assert [text for text, _ in literals(sample)] == ["Forbid", "it's"]


# Where a literal is no copy: a path into the document (model.js reads `at(document, [...])`),
# a field read by name (`model.valueOf(spec, 'timeZone')`), Intl's own key of the same name.
_READ = re.compile(r"(?:\bat\([^()]*\[[^\]]*|valueOf\([^()]*,\s*|supportedValuesOf\()$")
# In fields.js, a label may read like a value (the target's label is "Agent").
_LABEL = re.compile(r"(?:label|term):\s*$")


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(UI_DIR)))
def test_no_module_keeps_a_copy_of_the_servers_values(module: Path) -> None:
    if module == NAMES:
        return  # the one place, checked against the server above
    forbidden = server_values()
    fields = set(spec_fields())
    copies: list[str] = []
    for text, before in literals(module):
        if _READ.search(before) or (module == FIELDS and _LABEL.search(before)):
            continue
        if text in forbidden:
            copies.append(f"the server's value {text!r}")
        if text in fields and module != FIELDS:
            copies.append(f"the spec field {text!r}")  # a list or a rule of the UI's own
    assert copies == [], f"{module.relative_to(UI_DIR)} repeats {copies}"
