"""docs/ARCHITECTURE.md tells the truth: no module imports across a boundary it forbids, and it
lists every module.

The rules are read from the document's two tables ("Which room may import which" and its
exceptions), so the document is their one definition. Every `import` and `from ... import` of
every Python file in the repository counts, read with `ast` (nothing is run), including imports
inside functions. What it does not see: modules loaded by a name in a string
(`importlib.import_module`), which docs/ARCHITECTURE.md names where they are.

The document's Rooms table is checked too: it names every module of a room (`name.py`) and no
module that does not exist, and every path it names is a file.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "docs" / "ARCHITECTURE.md"
RULES_HEADING = "## Which room may import which"


@dataclass(frozen=True)
class Rules:
    may_import: dict[str, frozenset[str]]  # room -> the other project rooms it may import
    forbidden_libraries: dict[str, frozenset[str]]  # room -> libraries it may not import
    exceptions: frozenset[tuple[str, str]]  # (module path, imported top-level name)

    @property
    def rooms(self) -> frozenset[str]:
        return frozenset(self.may_import)


@dataclass(frozen=True)
class Crossing:
    path: str
    line: int
    imported: str
    why: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} imports {self.imported} ({self.why})"


def _tables(section: str) -> list[list[list[str]]]:
    """Markdown tables of a section: their body rows, each a list of cells."""
    tables: list[list[list[str]]] = []
    current: list[list[str]] | None = None
    for line in section.splitlines():
        if not line.startswith("|"):
            current = None
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if current is None:
            current = []  # the header row
            tables.append(current)
        elif not all(re.fullmatch(r":?-+:?", cell) for cell in cells):
            current.append(cells)
    return tables


def _names(cell: str) -> frozenset[str]:
    return frozenset(re.findall(r"`([^`]+)`", cell))


def parse_rules(text: str) -> Rules:
    start = text.index(RULES_HEADING)
    end = text.find("\n## ", start + len(RULES_HEADING))
    rooms_table, exceptions_table = _tables(text[start : end if end >= 0 else None])
    may_import: dict[str, frozenset[str]] = {}
    forbidden: dict[str, frozenset[str]] = {}
    for room_cell, rooms_cell, libraries_cell in rooms_table:
        (room,) = _names(room_cell)
        may_import[room] = _names(rooms_cell)
        forbidden[room] = _names(libraries_cell)
    exceptions = frozenset(
        (path, name)
        for path_cell, names_cell, _why in exceptions_table
        for path in _names(path_cell)
        for name in _names(names_cell)
    )
    return Rules(may_import, forbidden, exceptions)


def imported_modules(source: str) -> list[tuple[int, str]]:
    """(line, dotted name) of every absolute import in a module's source; `from a import b` counts
    as `a.b` (b may be a module)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def imported_names(source: str) -> list[tuple[int, str]]:
    """(line, top-level name) of every absolute import in a module's source."""
    return [(line, name.split(".")[0]) for line, name in imported_modules(source)]


def room_of(rules: Rules, slashed: str) -> str | None:
    """The deepest room holding a path (`generator/operator/plan.py`, `generator/operator/plan`)."""
    holding = [r for r in rules.rooms if slashed == r or slashed.startswith(r + "/")]
    return max(holding, key=len) if holding else None


def may_import(rules: Rules, room: str, other: str) -> bool:
    return other == room or any(
        other == allowed or other.startswith(allowed + "/") for allowed in rules.may_import[room]
    )


def crossings(rules: Rules, path: str, source: str) -> list[Crossing]:
    """The imports of the module at `path` (relative to the repository) that the rules forbid."""
    room = room_of(rules, path)
    assert room is not None, f"{path} is in no room"
    found: list[Crossing] = []
    for line, module in imported_modules(source):
        name = module.split(".")[0]
        if (path, name) in rules.exceptions:
            continue
        other = room_of(rules, module.replace(".", "/"))
        if other is not None and not may_import(rules, room, other):
            found.append(Crossing(path, line, name, f"{room} may not import the room {other}"))
        elif name in rules.forbidden_libraries[room]:
            found.append(Crossing(path, line, name, f"{room} may not import the library {name}"))
    return found


def python_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return sorted(path for path in listed if (ROOT / path).is_file())


@pytest.fixture(scope="module")
def rules() -> Rules:
    return parse_rules(DOCUMENT.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def sources() -> dict[str, str]:
    return {path: (ROOT / path).read_text(encoding="utf-8") for path in python_files()}


def test_no_module_imports_across_a_forbidden_boundary(
    rules: Rules, sources: dict[str, str]
) -> None:
    found = [str(c) for path, source in sources.items() for c in crossings(rules, path, source)]
    assert found == []


def test_every_python_file_lives_in_a_room_the_document_names(
    rules: Rules, sources: dict[str, str]
) -> None:
    assert [path for path in sources if room_of(rules, path) is None] == []


def test_every_generator_module_lives_in_a_sub_room(rules: Rules, sources: dict[str, str]) -> None:
    """`generator/` itself holds only its package docstring: each module is in a room that says
    what it holds."""
    assert [p for p in sources if room_of(rules, p) == "generator"] == ["generator/__init__.py"]


def test_the_rows_run_from_the_ground_floor_up(rules: Rules) -> None:
    """No room may import a room listed below it: nothing runs back up."""
    order = list(rules.may_import)
    assert [
        (room, other)
        for i, room in enumerate(order)
        for other in order[i + 1 :]
        if other != "generator" and may_import(rules, room, other)
    ] == []


def test_every_exception_is_still_needed(rules: Rules, sources: dict[str, str]) -> None:
    used = {
        (path, name)
        for path, name in rules.exceptions
        for _, imported in imported_names(sources.get(path, ""))
        if imported == name
    }
    assert set(rules.exceptions) - used == set()


def test_the_document_forbids_what_the_project_promises(rules: Rules) -> None:
    """Guards the parsing: a table the test failed to read would allow everything."""
    product = {"runner", "generator", "server"}
    assert product | {"devcluster", "tests", "bench", "scripts"} <= rules.rooms
    assert all("tests" not in rules.may_import[room] for room in product | {"devcluster"})
    assert all("devcluster" not in rules.may_import[room] for room in product)
    assert rules.may_import["runner"] == frozenset()
    assert not any(
        may_import(rules, "server", room) for room in ("generator/operator", "generator/cli")
    )
    assert {"kopf", "kubernetes", "jinja2", "yaml", "prometheus_client"} <= (
        rules.forbidden_libraries["runner"]
    )


@pytest.mark.parametrize(
    ("path", "source", "imported"),
    [
        pytest.param("runner/run.py", "import kopf\n", "kopf", id="runner-library"),
        pytest.param(
            "runner/a2a.py",
            "def f():\n    from generator import render\n",
            "generator",
            id="runner-operator-in-a-function",
        ),
        pytest.param(
            "generator/operator/plan.py", "import tests.builders\n", "tests", id="product-tests"
        ),
        pytest.param(
            "generator/cli/offline.py",
            "from devcluster.cluster import ControlPlane\n",
            "devcluster",
            id="product-devcluster",
        ),
        pytest.param(
            "devcluster/stack.py", "from tests import fixtures\n", "tests", id="dev-tests"
        ),
        pytest.param("runner/history.py", "import yaml\n", "yaml", id="exception-is-per-module"),
        pytest.param(
            "server/scheduledruns.py",
            "from generator.operator.plan import make_plan\n",
            "generator",
            id="server-operator",
        ),
        pytest.param(
            "generator/schedule/cron.py",
            "from generator.spec import validate\n",
            "generator",
            id="back-up-a-floor",
        ),
    ],
)
def test_a_forbidden_import_is_reported(
    rules: Rules, path: str, source: str, imported: str
) -> None:
    assert [c.imported for c in crossings(rules, path, source)] == [imported]


def test_allowed_imports_are_not_reported(rules: Rules) -> None:
    source = (
        "import httpx\nfrom runner import api\nfrom generator.operator import plan\n"
        "from generator.schedule.cron import next_fire_times\nimport kopf\n"
    )
    assert crossings(rules, "generator/operator/controller.py", source) == []


def test_the_checker_reads_this_interpreter(rules: Rules) -> None:
    """Standard-library names are never rooms (a room named like one would hide its imports)."""
    assert rules.rooms & set(sys.stdlib_module_names) == set()


# ---- the document lists every module ---------------------------------------------------------

ROOMS_HEADING = "## Rooms"
# Rooms whose modules the Rooms table names one by one (`name.py`); `tests/` names its helpers,
# not each test module in its subfolders.
LISTED_ROOMS = (
    "runner",
    "generator/schedule",
    "generator/spec",
    "generator/cronjob",
    "generator/operator",
    "generator/cli",
    "server",
    "devcluster",
    "tests",
    "bench",
    "scripts",
)
MODULE = re.compile(r"`([A-Za-z_][A-Za-z0-9_]*\.py)`")
PATH = re.compile(r"`([A-Za-z0-9_./-]+\.py)`")


def rooms_table(text: str) -> dict[str, str]:
    """The Rooms table: room (without its trailing /) -> what the document says it holds."""
    start = text.index(ROOMS_HEADING)
    end = text.index("\n## ", start + len(ROOMS_HEADING))
    (table,) = _tables(text[start:end])
    return {room_cell.strip("`").rstrip("/"): holds for room_cell, holds in table}


def modules_of(room: str) -> set[str]:
    """The Python modules directly in a room's folder (its package marker aside)."""
    return {p.name for p in (ROOT / room).glob("*.py")} - {"__init__.py"}


def named_modules(holds: str) -> set[str]:
    return set(MODULE.findall(holds))


@pytest.fixture(scope="module")
def rooms() -> dict[str, str]:
    return rooms_table(DOCUMENT.read_text(encoding="utf-8"))


@pytest.mark.parametrize("room", LISTED_ROOMS)
def test_the_rooms_table_names_every_module_of_a_room_and_no_other(
    rooms: dict[str, str], room: str
) -> None:
    named = named_modules(rooms[room])
    assert {
        "left out": sorted(modules_of(room) - named),
        "no such module": sorted(named - modules_of(room)),
    } == {
        "left out": [],
        "no such module": [],
    }


def test_every_path_the_document_names_exists() -> None:
    text = DOCUMENT.read_text(encoding="utf-8")
    missing = sorted({p for p in PATH.findall(text) if "/" in p and not (ROOT / p).is_file()})
    assert missing == []


def test_the_rooms_table_is_read(rooms: dict[str, str]) -> None:
    """Guards the parsing: every listed room is a row, and a module of it is found by name."""
    assert set(LISTED_ROOMS) <= set(rooms)
    assert "plan.py" in named_modules(rooms["generator/operator"])
    assert named_modules("`api.py` holds names; `ObjectKey`, `scheduledrun run`, `a/b.py`") == {
        "api.py"
    }
