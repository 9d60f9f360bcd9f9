"""Commands started as a non-interactive shell starts a background job: with SIGINT ignored.

A process inherits an ignored SIGINT across exec, and Python then leaves it ignored (no
KeyboardInterrupt): a command that stops on Ctrl-C must install its handler itself (issue 22).
The tests that send SIGINT start their command this way, so they hold wherever they run.
"""

from __future__ import annotations


def with_sigint_ignored(argv: list[str]) -> list[str]:
    """`argv`, run with SIGINT ignored from its start (its pid stays the shell's: it execs)."""
    return ["sh", "-c", 'trap "" INT; exec "$@"', "sh", *argv]
