"""Every way the demo (`scripts/demo.py`, the real one) can end leaves no process and no
temporary folder behind: Ctrl-C in its terminal, Ctrl-C while its output goes through a pipe
that dies with it (`| tee log`), SIGTERM, and SIGHUP (the terminal closed). Two endings come
during start-up (control plane up, the node and the rest starting), two once it waits for ticks
(the node running the operator pod, a run done), so both the partial and the whole clean-up are
covered. (That the node puts back its host settings is devcluster's node tests' concern.)

How "nothing left" is judged: the demo runs with a TMPDIR of its own, which every temporary folder
it makes lands in and every process it starts inherits; after it exits, that folder must be empty
and no process may be alive that carries the TMPDIR in its environment or that was the demo's
descendant while it ran. Not covered: SIGKILL of the demo (its children then die by the
parent-death signal, but its temporary folders stay).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devcluster.cluster import binaries
from devcluster.stack import REPO
from tests.signals import with_sigint_ignored

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

STARTING = "==> a real node"  # the control plane is up, the node and the rest are starting
WAITING = "==> waiting for scheduled ticks"  # all started, a run done


def processes() -> Iterator[tuple[int, int]]:
    """(pid, parent pid) of every process."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z":  # a zombie has exited already
                yield int(entry.name), int(fields[1])


def descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, parent in processes():
        children.setdefault(parent, []).append(pid)
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def carrying(marker: bytes) -> set[int]:
    """Processes whose environment holds `marker`."""
    found = set()
    for pid, _ in processes():
        try:
            if marker in Path(f"/proc/{pid}/environ").read_bytes():
                found.add(pid)
        except OSError:
            continue
    return found


def alive(pids: set[int]) -> set[int]:
    living = {pid for pid, _ in processes()}
    return pids & living


class Demo:
    """The demo in a session of its own (as in a terminal), its output read line by line,
    started with SIGINT ignored as a script's background job would be (tests/signals.py)."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "TMPDIR": str(tmp),
            "SCHEDULEDRUN_BIN_DIR": str(binaries()),
        }
        self.process = subprocess.Popen(
            with_sigint_ignored([sys.executable, str(REPO / "scripts" / "demo.py")]),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self.seen = threading.Condition()
        self.reading = True
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            with self.seen:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                self.seen.notify_all()
                if not self.reading:
                    break
        with self.seen:
            self.seen.notify_all()

    def wait_for(self, marker: str, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        with self.seen:
            while not any(line.startswith(marker) for line in self.lines):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"no {marker!r}; output:\n" + "\n".join(self.lines))
                self.seen.wait(1)

    def close_pipe(self) -> None:
        """The reader of the demo's output goes away (tee killed by the same Ctrl-C)."""
        with self.seen:
            self.reading = False
        assert self.process.stdout is not None
        os.close(self.process.stdout.fileno())  # the reader thread's next read fails

    def output(self) -> str:
        with self.seen:
            return "\n".join(self.lines)


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """The demo's TMPDIR: short, since the node's unix sockets live below it (at most 107 bytes
    a path) and pytest's tmp_path is deep."""
    folder = Path(tempfile.mkdtemp(prefix="sr-exit-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize(
    ("marker", "ending"),
    [
        pytest.param(STARTING, "ctrl-c", id="ctrl-c-while-starting"),
        pytest.param(STARTING, "sigterm", id="sigterm-while-starting"),
        pytest.param(WAITING, "ctrl-c-closed-pipe", id="ctrl-c-with-a-closed-pipe"),
        pytest.param(WAITING, "sighup", id="terminal-closed"),
    ],
)
def test_every_ending_leaves_no_process_and_no_temp_folder(
    short_tmp: Path, marker: str, ending: str
) -> None:
    tmp = short_tmp
    demo = Demo(tmp)
    try:
        demo.wait_for(marker)
        started = descendants(demo.process.pid) | carrying(f"TMPDIR={tmp}".encode())
        assert started, "the demo started no process"
        group = os.getpgid(demo.process.pid)
        if ending == "ctrl-c":
            os.killpg(group, signal.SIGINT)  # what a terminal's Ctrl-C sends
        elif ending == "sigterm":
            demo.process.send_signal(signal.SIGTERM)
        elif ending == "sighup":
            os.killpg(group, signal.SIGHUP)  # what closing the terminal sends
        else:
            demo.close_pipe()
            os.killpg(group, signal.SIGINT)
        code = demo.process.wait(timeout=180)
    finally:
        if demo.process.poll() is None:
            demo.process.kill()
            demo.process.wait()
    output = demo.output()
    assert code == 0, output[-3000:]
    if ending != "ctrl-c-closed-pipe":
        assert output.endswith("stopped; nothing left running"), output[-3000:]
    deadline = time.monotonic() + 10  # a killed process may take a moment to be reaped
    while alive(started) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert alive(started) == set(), output[-3000:]
    assert carrying(f"TMPDIR={tmp}".encode()) == set()
    assert sorted(p.name for p in tmp.iterdir()) == []
