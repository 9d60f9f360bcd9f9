"""krew/scheduledrun.yaml, filled in as a release would, is a krew Plugin manifest: krew's
required fields, a semver version with its `v`, the plugin name kubectl resolves
(`kubectl scheduledrun` runs `kubectl-scheduledrun`), and the binary the package installs."""

from __future__ import annotations

import re
import string
import tomllib
from pathlib import Path

import yaml

from runner import cli

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "krew" / "scheduledrun.yaml"


def filled() -> dict[str, object]:
    text = string.Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
        VERSION="v0.1.0", URI="https://example.invalid/kubectl-scheduledrun.tar.gz", SHA256="0" * 64
    )
    manifest: dict[str, object] = yaml.safe_load(text)
    return manifest


def test_the_filled_template_is_a_krew_plugin() -> None:
    manifest = filled()
    assert manifest["apiVersion"] == "krew.googlecontainertools.github.com/v1alpha2"
    assert manifest["kind"] == "Plugin"
    spec = manifest["spec"]
    assert isinstance(spec, dict)
    assert re.fullmatch(r"v\d+\.\d+\.\d+", spec["version"])
    assert spec["shortDescription"]
    assert len(spec["shortDescription"]) <= 50
    for platform in spec["platforms"]:
        assert {"selector", "uri", "sha256", "bin"} <= set(platform)
        assert re.fullmatch(r"[0-9a-f]{64}", platform["sha256"])


def test_the_name_and_binary_are_the_ones_kubectl_and_the_package_use() -> None:
    manifest = filled()
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "scripts"
    ]
    metadata, spec = manifest["metadata"], manifest["spec"]
    assert isinstance(metadata, dict)
    assert isinstance(spec, dict)
    binaries = {platform["bin"] for platform in spec["platforms"]}
    assert binaries == {f"kubectl-{metadata['name']}"}
    assert scripts[f"kubectl-{metadata['name']}"] == "runner.cli:kubectl_main"
    assert f"kubectl {metadata['name']}" == cli.PLUGIN_NAME
