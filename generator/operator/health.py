"""Whether the operator can do its job, for `/healthz`: pure, no I/O, no clock of its own.

The operator works through the API server: kopf's watches bring every change, its own requests
write. Both stop when the API server cannot be reached (or no longer accepts the operator's
credentials), and the process itself never notices: kopf retries its watches forever, the event
loop keeps running, and an answer of "the process is up" would keep the kubelet from restarting
an operator that does nothing. So health is judged on word from the API server: a watch event
(each handler call) or a successful list (the start-up listing, then a one-item list every
`probe_every(stale_after)`, health_server.py). When the last word is older than `stale_after`,
the operator is unhealthy, with a reason a person can read; the next word makes it healthy again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# Seconds without word from the API server before /healthz fails. Long enough that a slow list on
# a busy API server, or one missed probe, is not an outage; short against the chart's liveness
# probe (failureThreshold 3 x periodSeconds 20 = 60 s of failures), so the kubelet restarts an
# operator cut off from the API server about a minute and a half after the last word.
DEFAULT_STALE_AFTER: Final = 30.0
# Probes per stale_after: one lost or slow probe alone never makes the operator unhealthy.
PROBES_PER_WINDOW: Final = 3
# An error text in the reason is cut to this length (the answer is read by people and logs).
REASON_MAX: Final = 300


@dataclass(frozen=True)
class Verdict:
    healthy: bool
    reason: str


def probe_every(stale_after: float) -> float:
    """Seconds between the health probe's lists: several within one `stale_after`."""
    return stale_after / PROBES_PER_WINDOW


def judge(
    now: float, last_word: float, stale_after: float, last_error: str | None = None
) -> Verdict:
    """Healthy while the last word from the API server (a watch event or a successful list, at
    `last_word`, on the same monotonic clock as `now`) is at most `stale_after` seconds old."""
    age = max(0.0, now - last_word)
    if age <= stale_after:
        return Verdict(True, f"ok: last word from the API server {age:.1f}s ago")
    why = f"; last error: {bounded(last_error)}" if last_error else ""
    return Verdict(
        False,
        f"unhealthy: no watch event and no successful list from the API server for {age:.1f}s"
        f" (more than {stale_after:g}s){why}",
    )


def bounded(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= REASON_MAX else text[: REASON_MAX - 1] + "…"


@dataclass
class Liveness:
    """The operator's last word from the API server and the error of its last failed probe since:
    noted by the watch handlers and the probe, read by /healthz. Made with `last_word` the time
    of the start-up listing, the first word."""

    stale_after: float
    last_word: float
    last_error: str | None = None

    def heard(self, now: float) -> None:
        self.last_word = max(self.last_word, now)
        self.last_error = None

    def failed(self, error: str) -> None:
        self.last_error = error

    def verdict(self, now: float) -> Verdict:
        return judge(now, self.last_word, self.stale_after, self.last_error)
