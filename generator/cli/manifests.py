"""Reading Kubernetes manifests from files or stdin, the way `kubectl apply -f` reads them.

The offline commands (`validate`, `render`, `next`) share this so they agree on what a file holds:
multi-document YAML, empty documents skipped, duplicate keys and unreadable files reported as
a `ManifestError` with the file and line, never a traceback. Timestamps stay strings, as they do
when kubectl turns YAML into JSON, so `prompt: 2024-01-01` is the text it looks like.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode

STDIN = "-"


class ManifestError(Exception):
    """A source that cannot be read or is not YAML; the message names the source and the place."""


@dataclass(frozen=True)
class Document:
    """One non-empty YAML document of a source."""

    source: str  # the path as given, or "<stdin>"
    index: int  # 1-based position among the source's documents
    count: int  # how many non-empty documents the source holds
    obj: Any

    @property
    def where(self) -> str:
        """`path` or, in a file of several documents, `path, document N`."""
        return self.source if self.count == 1 else f"{self.source}, document {self.index}"

    @property
    def label(self) -> str:
        """`name (where)` for a verdict line; objects without a name use their position."""
        meta = self.obj.get("metadata") if isinstance(self.obj, dict) else None
        name = meta.get("name") if isinstance(meta, dict) else None
        shown = name if isinstance(name, str) and name else "<unnamed>"
        return f"{shown} ({self.where})"


class _Loader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys and leaves timestamps as strings."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:  # an unhashable key; the base class reports it
                break
            if duplicate:
                raise ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _describe(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return str(problem)


def parse_documents(text: str, source: str) -> list[Document]:
    """Every non-empty document of `text`; `source` names it in errors."""
    try:
        objs = [obj for obj in yaml.load_all(text, Loader=_Loader) if obj is not None]
    except yaml.YAMLError as exc:
        raise ManifestError(f"{source} is not valid YAML: {_describe(exc)}") from exc
    return [Document(source, i, len(objs), obj) for i, obj in enumerate(objs, start=1)]


def read_source(path: str, stdin: TextIO | None = None) -> list[Document]:
    """The documents of a file, or of stdin when `path` is `-`."""
    if path == STDIN:
        stream = stdin if stdin is not None else sys.stdin
        try:
            text = stream.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise ManifestError(f"cannot read <stdin>: {exc}") from exc
        return parse_documents(text, "<stdin>")
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ManifestError(f"no such file: {path}") from exc
    except IsADirectoryError as exc:
        raise ManifestError(f"{path} is a directory, not a file") from exc
    except UnicodeDecodeError as exc:
        raise ManifestError(f"{path} is not UTF-8 text: {exc.reason} at byte {exc.start}") from exc
    except OSError as exc:
        raise ManifestError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return parse_documents(text, path)
