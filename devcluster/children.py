"""Child processes of the development cluster die with the process that started them.

The control plane, the operator, the REST API server and the runner processes each run in their
own session (so a terminal's Ctrl-C reaches only the demo or the test, which then stops them in
order). The price: when that parent dies without its clean-up (SIGKILL, a crash), nothing would
stop them. Linux's parent-death signal closes that gap: `popen_options()` makes each child ask the
kernel (prctl PR_SET_PDEATHSIG) for SIGKILL when its parent goes. The signal follows the thread
that started the child, so start long-lived children from a thread that outlives them (the main
thread, or the thread that waits for the child).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
from collections.abc import Callable
from typing import Any, Final

PR_SET_PDEATHSIG: Final = 1  # <linux/prctl.h>


def _prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    function: Callable[..., int] = libc.prctl
    return function


# Looked up once in the parent: between fork and exec the child must not import or load anything.
_PRCTL: Final = _prctl()


def die_with_parent(parent: int) -> Callable[[], None]:
    """A `preexec_fn`: SIGKILL this child when `parent` exits (also if it already has)."""

    def preexec() -> None:
        if _PRCTL is not None:
            _PRCTL(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the request was made
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


def popen_options() -> dict[str, Any]:
    """`subprocess.Popen` keyword arguments for a child of the development cluster: its own
    session, killed when this process dies."""
    return {"start_new_session": True, "preexec_fn": die_with_parent(os.getpid())}
