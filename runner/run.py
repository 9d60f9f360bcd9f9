"""One A2A run of a ScheduledRun, exactly once, recorded in its history (the `Run` of a Job).

The I/O half of the runner's exactly-once run (the README's "The runner, exactly once"); every
decision is a pure function in `runner.lifecycle`. Steps, each logged as one JSON line on stderr:

start -> read (ScheduledRun, Job, own entry) -> card (protocol, streaming) -> pending-written
(before anything is sent) -> sent -> ids-recorded (sessionID/taskID) -> follow (stream or poll;
cancel at the deadline) -> outcome -> finished (terminal entry, lastRun*). A restarted runner
resumes from its entry: terminal -> exit; Pending with a task -> follow it; Pending without one
-> look for the task (1.0 ListTasks by the derived contextId): adopt it if found, send only if an
authenticated lookup positively finds none, else DispatchFailed (delivery uncertain). The same
delivery rule governs a failed send (`lifecycle.judge_dispatch_error`). On SIGTERM the task is
cancelled and the end recorded (`Run.request_stop`, `Run._stop`).

Imports only httpx and the standard library: it runs in a fresh pod on every tick.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any, Final

import httpx

from runner import (
    api,
    delivery,
    history,
    lifecycle,
    limits,
    otlp,
    previous,
    spec_fields,
    trace,
    variables,
    webhook,
)
from runner.a2a import (
    A2AClient,
    A2AError,
    AgentInfo,
    BadAnswer,
    CredentialError,
    Misbehaved,
    NoAnswer,
    Protocol,
    RpcError,
    TaskView,
    agent_transport,
    fetch_card,
    read_card,
)
from runner.duration import parse_duration
from runner.identity import Identity, for_scheduledrun
from runner.kube import KubeClient, KubeError
from runner.lifecycle import Outcome


@dataclass(frozen=True)
class Settings:
    namespace: str
    name: str
    job_name: str
    job_uid: str | None = None
    a2a_base_url: str = api.DEFAULT_A2A_BASE_URL
    a2a_protocol: str = "auto"  # auto | 0.3 | 1.0
    request_timeout: float = 30.0  # one HTTP exchange with the agent
    dispatch_attempts: int = 4  # sends before DispatchFailed (connect errors, 5xx, non-JSON)
    dispatch_backoff: tuple[float, float, float] = (1.0, 2.0, 8.0)  # first, factor, cap (s)
    stream_idle: float = 10.0  # reopen a silent stream after this long (and check the deadline)
    a2a_user_id: str = api.DEFAULT_A2A_USER_ID  # sent as X-User-Id ("" sends none)
    a2a_token_file: str | None = None  # bearer token, read from this file on every request
    stop_budget: float = api.STOP_BUDGET_SECONDS  # after SIGTERM: cancel and record within this
    delivery_budget: float = api.DELIVERY_BUDGET_SECONDS  # per destination, all attempts
    delivery_attempt_timeout: float = 10.0  # one POST to a receiver, answer included
    delivery_backoff: tuple[float, float, float] = (1.0, 2.0, 8.0)  # first, factor, cap (s)
    session_url: str | None = None  # a link template: {namespace} {name} {agent} {sessionID}


_FIXED_PROTOCOLS: dict[str, Protocol] = {"0.3": "0.3", "1.0": "1.0"}


class Stopped(BaseException):
    """SIGTERM arrived (ScheduledRun deleted, Job replaced or past its deadline, pod evicted).

    A BaseException, so no `except Exception` on the way can swallow it."""


class Finished(Exception):
    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.message)
        self.outcome = outcome


@dataclass(frozen=True)
class StopCause:
    """Why Kubernetes stopped the runner: words for the entry, and what they mean for it."""

    words: str
    deadline: bool = False  # the run's time is up: recorded as Timeout
    gone: bool = False  # the ScheduledRun no longer exists: there is nothing to record into


DEADLINE: Final = StopCause("deadline", deadline=True)


@dataclass(frozen=True)
class Cancelled:
    """What became of a cancel at the deadline: words for the entry, and whether the call failed
    (the agent refused or could not be reached: the task may still run, or have just ended)."""

    note: str
    failed: bool = False


class Log:
    """One JSON object per line on stderr: `{"time", "step", "namespace", "name", "job", ...}`."""

    def __init__(self, stream: IO[str], **context: str) -> None:
        self.stream = stream
        self.context = context
        self.steps: list[otlp.Event] = []  # the run's steps, for its span's events

    def __call__(self, step: str, **fields: Any) -> None:
        now = datetime.now(UTC)
        self.steps.append(otlp.Event(step, now))
        line = {"time": now.isoformat(timespec="milliseconds"), "step": step}
        self.stream.write(json.dumps({**line, **self.context, **fields}, default=str) + "\n")
        self.stream.flush()


def _now() -> datetime:
    return datetime.now(UTC)


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class Run:
    """One runner process's work for one Job."""

    def __init__(
        self,
        settings: Settings,
        kube: KubeClient,
        log: Log,
        now: Callable[[], datetime] = _now,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.environ = os.environ if environ is None else environ
        self.kube = kube
        self.log = log
        self.now = now
        self.sleep = sleep
        self.monotonic = monotonic  # measures the send (the entry's dispatchSeconds)
        self.max_history = spec_fields.DEFAULT_MAX_RUN_HISTORY
        self.timeout = parse_duration(spec_fields.DEFAULT_TIMEOUT)
        self.entry: dict[str, Any] = {}
        self.job_uid = settings.job_uid
        self.deadline = self.now()
        self.info = AgentInfo("0.3", False)
        self.refused: str | None = None
        self.context: str | None = None  # spec.includePreviousRun's second part
        self.scheduled_runs = 0  # status.scheduledRuns as this run's entry was recorded
        self.identity = Identity(settings.a2a_user_id, settings.a2a_token_file or None)
        self.trace = trace.for_run(
            settings.job_uid or settings.job_name
        )  # again once the Job is read
        self.job: dict[str, Any] = {}
        self.url = ""  # the agent's A2A endpoint, once the spec is read
        self.task_id = ""  # the agent's task, once known
        self.recorded = False  # this run's entry is in the ScheduledRun's history
        self.interruptible = False  # SIGTERM raises Stopped (not while the end is written)
        self.stop_requested = False
        self.write_budget = 120.0  # seconds a status write may spend on conflicts
        self.sr: Mapping[str, Any] = {}  # the ScheduledRun as read when the run started
        self.delivery_cap: float | None = None  # after SIGTERM: what is left of the stop budget

    # --- SIGTERM -------------------------------------------------------------------------------

    def request_stop(self) -> None:
        """Called by the SIGTERM handler: interrupt the run, unless its end is being written
        (then that write finishes and the process exits as it would have)."""
        self.stop_requested = True
        if self.interruptible:
            self.interruptible = False
            raise Stopped()

    def _stop(self) -> int:
        """Cancel the agent's task, record why the run ended, all within the stop budget."""
        began = time.monotonic()
        budget = self.settings.stop_budget
        # Every Kubernetes call of the stop is short, so all of it fits the budget: cancel up to
        # a quarter of it, two reads and the write with what is left.
        self.kube.limit(max(1.0, budget / 6))
        self.log("stopping", task=self.task_id or self.entry.get("taskID"), recorded=self.recorded)
        task_id = self.task_id or str(self.entry.get("taskID") or "")
        finished: Outcome | None = None
        if not self.recorded:
            note = "nothing was sent"
        elif not task_id:
            note = "the agent's task was not known yet, so nothing was cancelled"
        else:
            finished, note = self._cancel_on_stop(task_id)
        cause = self._stop_cause()
        if finished is not None:
            outcome = finished  # the task ended on its own just before the stop
        elif cause.deadline:
            outcome = lifecycle.timeout_outcome(self.timeout, f"stopped at the deadline; {note}")
        else:
            outcome = Outcome("Failed", f"stopped: {cause.words}; {note}")
        self.log("stopped", cause=cause.words, status=outcome.status, message=outcome.message)
        if not self.recorded or cause.gone:
            return api.EXIT_FINAL_FAILURE
        self.write_budget = max(1.0, budget - (time.monotonic() - began))
        self.delivery_cap = max(1.0, budget - (time.monotonic() - began) - 2.0)
        try:
            return self._finish(self.entry, outcome, None)
        except KubeError as exc:
            self.log("error", error=f"recording the stop failed: {exc}")
            return api.EXIT_FINAL_FAILURE
        finally:
            self.log("stop-took", seconds=round(time.monotonic() - began, 3))

    def _cancel_on_stop(self, task_id: str) -> tuple[Outcome | None, str]:
        """(the task's own outcome if it already ended, what became of the cancel)."""
        timeout = max(1.0, min(5.0, self.settings.stop_budget / 4))
        with httpx.Client(
            transport=agent_transport(), follow_redirects=False, headers=self.trace.headers()
        ) as http:
            client = A2AClient(http, self.url, self.info.protocol, self.identity)
            try:
                view = client.cancel(task_id, timeout)
            except RpcError as exc:
                self.log("cancel", task=task_id, error=str(exc))
                return None, f"the agent could not cancel its task ({exc}); it may still be running"
            except A2AError as exc:
                self.log("cancel", task=task_id, error=str(exc))
                return None, f"cancelling the agent's task failed ({exc}); it may still be running"
        self.log("cancel", task=task_id, state=view.state)
        if view.state == "canceled":
            return None, "the agent's task was cancelled"
        return lifecycle.outcome_of(view), f"the agent's task is {view.state}"

    def _stop_cause(self) -> StopCause:
        """Why Kubernetes stopped the runner."""
        if self.recorded and self._remaining() <= 1:
            return DEADLINE
        try:
            job = self.kube.get_job(self.settings.namespace, self.settings.job_name)
        except KubeError as exc:
            job = {} if exc.status == 404 else self.job
        if lifecycle.job_deadline_passed(job or self.job, self.now()):
            return DEADLINE
        try:
            sr = self.kube.get_scheduledrun(self.settings.namespace, self.settings.name)
        except KubeError as exc:
            if exc.status == 404:
                return StopCause("the ScheduledRun was deleted", gone=True)
            sr = {}
        if (sr.get("metadata") or {}).get("deletionTimestamp"):
            return StopCause("the ScheduledRun is being deleted")
        if not job or (job.get("metadata") or {}).get("deletionTimestamp"):
            return StopCause(
                "the run's Job was deleted (concurrencyPolicy Replace started a newer run,"
                " or someone deleted the Job)"
            )
        return StopCause(
            "the runner's pod was stopped (SIGTERM: deleted, evicted or its node drained)"
        )

    # --- the whole run -----------------------------------------------------------------------

    def execute(self) -> int:
        """The run; a SIGTERM (see `request_stop`) ends it through `_stop`."""
        self.interruptible = True
        if self.stop_requested:
            self.interruptible = False
            return api.EXIT_RETRY
        try:
            return self._execute()
        except Stopped:
            return self._stop()
        finally:
            self.interruptible = False

    def _execute(self) -> int:
        sr = self.kube.get_scheduledrun(self.settings.namespace, self.settings.name)
        # The run is its creator's (kagent.dev/created-by): kagent files its session under them.
        self.identity = for_scheduledrun(self.identity, sr)
        self.sr = sr
        job = self._read_job()
        self.job = job
        found = history.find(
            (sr.get("status") or {}).get("runHistory") or [], self.settings.job_name
        )
        self.recorded = found is not None
        step: lifecycle.Step = lifecycle.step_for(found)
        self.log("read", resume=step, entry=found)
        if step == "done":
            assert found is not None
            return self._resume_delivery(found)
        metadata = job.get("metadata") or {}
        self.job_uid = self.settings.job_uid or metadata.get("uid")
        annotations = metadata.get("annotations") or {}
        self.trace = trace.for_run(
            str(self.job_uid or self.settings.job_name), annotations.get(api.ANNOTATION_TRACEPARENT)
        )
        trigger = lifecycle.trigger_of(annotations)
        pending = found or {
            **history.new_pending(
                self.settings.job_name,
                trigger,
                lifecycle.scheduled_time_of(annotations, trigger),
                self.now(),
            ),
            "traceID": self.trace.trace_id,
        }
        if step == "start" and self._refused(sr, trigger, pending):
            return api.EXIT_SUCCEEDED
        try:
            spec = self._read_spec(sr)
        except ValueError as exc:
            return self._finish(pending, Outcome("DispatchFailed", f"invalid spec: {exc}"), sr)
        self.entry = dict(pending)
        self.deadline = lifecycle.deadline_of(self.entry, self.timeout, self.now())
        if spec["include_previous"]:
            self.context = previous.context_part(
                (sr.get("status") or {}).get("runHistory") or [], pending
            )
        self.url = spec["url"]
        self.scheduled_runs = _count((sr.get("status") or {}).get("scheduledRuns"))
        with httpx.Client(
            transport=agent_transport(), follow_redirects=False, headers=self.trace.headers()
        ) as http:
            try:
                # The card comes before the Pending write: reading it sends the agent nothing,
                # and a runner stopped before that write is simply started again.
                self.info = self._discover(http, spec["url"], persistent=step != "start")
                if step == "start":
                    written = self._write_pending(pending, sr)
                    if written is None:
                        return api.EXIT_SUCCEEDED if self.refused else api.EXIT_FINAL_FAILURE
                    self.recorded = True
                    step = "send" if written == pending else lifecycle.step_for(written)
                    if step == "done":
                        return lifecycle.exit_code(written["status"])
                    self.entry = dict(written)
                    self.deadline = lifecycle.deadline_of(self.entry, self.timeout, self.now())
                client = A2AClient(http, spec["url"], self.info.protocol, self.identity)
                prompt = "" if step == "follow" else self._prompt(spec, sr)
                outcome = self._drive(client, step, prompt)
            except Finished as done:
                outcome = done.outcome
        self.log("outcome", status=outcome.status)  # known here; recorded by the next write
        return self._finish(self.entry, outcome, None)

    def _read_job(self) -> dict[str, Any]:
        try:
            return self.kube.get_job(self.settings.namespace, self.settings.job_name)
        except KubeError as exc:
            if exc.status not in (403, 404):
                raise
            self.log("job-unreadable", error=str(exc))
            return {}

    def _read_spec(self, sr: Mapping[str, Any]) -> dict[str, Any]:
        spec = sr.get("spec") or {}
        prompt = spec.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise ValueError("spec.prompt is empty")
        self.timeout = parse_duration(spec_fields.timeout(spec))
        self.max_history = spec_fields.max_run_history(spec)
        target = spec.get("targetRef") or {}
        url = lifecycle.agent_url(
            self.settings.a2a_base_url,
            str(target.get("kind") or ""),
            self.settings.namespace,
            str(target.get("name") or ""),
        )
        fill = spec_fields.prompt_variables(spec)
        if fill:
            wrong = variables.problems(prompt)
            if wrong:
                raise ValueError(f"spec.prompt: {'; '.join(wrong)}")
            variables.zone_of(spec)
        return {
            "prompt": prompt,
            "url": url,
            "include_previous": spec_fields.include_previous_run(spec),
            "variables": fill,
        }

    def _prompt(self, spec: Mapping[str, Any], sr: Mapping[str, Any]) -> str:
        """The prompt as sent: with spec.promptVariables, this run's values filled in (the
        same on a resend after a restart: they come from the recorded entry and history)."""
        if not spec["variables"]:
            return str(spec["prompt"])
        run_history = (sr.get("status") or {}).get("runHistory") or []
        values = variables.values(
            self.settings.namespace,
            self.settings.name,
            sr.get("spec") or {},
            run_history,
            self.entry,
            self.scheduled_runs,
        )
        prompt = variables.render(str(spec["prompt"]), values)
        self.log("prompt-variables", values=values)
        return prompt

    def _refused(
        self, sr: Mapping[str, Any], trigger: api.Trigger, entry: Mapping[str, Any]
    ) -> bool:
        """A scheduled run past spec.endTime or spec.maxRuns: nothing is sent or recorded."""
        due = history.parse_time(entry.get("scheduledTime")) or self.now()
        self.refused = limits.refusal(sr.get("spec") or {}, sr.get("status") or {}, trigger, due)
        if self.refused:
            self.log("refused", reason=self.refused)
        return self.refused is not None

    def _write_pending(
        self, pending: dict[str, Any], sr: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """Record Pending before sending; the entry as stored (None: refused by spec.endTime
        or spec.maxRuns on a fresh read)."""

        def add(status: Mapping[str, Any]) -> Mapping[str, Any] | None:
            if history.find(status.get("runHistory") or [], pending["id"]) is not None:
                return None  # another runner of this Job recorded it first: follow theirs
            # Checked again on every fresh read: the count moves only with this very write.
            if self._refused({**sr, "status": status}, pending["trigger"], pending):
                return None
            fields = history.record(status, pending, self.max_history, self.now())
            return {**fields, **limits.counted(status, pending)}

        stored = self.kube.update_status(
            self.settings.namespace, self.settings.name, add, current=sr
        )
        stored_status = stored.get("status") or {}
        entry = history.find(stored_status.get("runHistory") or [], pending["id"])
        self.scheduled_runs = _count(stored_status.get("scheduledRuns"))
        if entry is not None:
            self.log("pending-written", entry=entry)
        return entry

    def _write_fields(self, status: Mapping[str, Any], entry: Mapping[str, Any]) -> Any:
        """The status fields recording `entry`: a run's first record always keeps it; a later
        one of a run that newer runs have since trimmed away writes nothing (None)."""
        if self.recorded:
            return history.update(status, entry, self.max_history, self.now())
        return history.record(status, entry, self.max_history, self.now())

    @staticmethod
    def _with(fields: Any, more: Mapping[str, Any]) -> Any:
        return None if fields is None else {**fields, **more}

    def _save(self, entry: dict[str, Any]) -> None:
        self.entry = entry
        self.kube.update_status(
            self.settings.namespace,
            self.settings.name,
            lambda status: self._write_fields(status, entry),
        )

    def _finish(
        self, entry: Mapping[str, Any], outcome: Outcome, sr: Mapping[str, Any] | None
    ) -> int:
        self.interruptible = False  # a SIGTERM now lets this write finish
        final = history.finished(entry, outcome.status, outcome.message, self.now())
        targets = delivery.destinations(self.sr.get("spec") or {})
        if targets:  # recorded before anything is sent: Sending, or Skipped and why
            final["delivery"] = self._delivery_plan(final, targets)
        shown = {"lastDelivery": delivery.summary(final)} if targets else {}
        self.kube.update_status(
            self.settings.namespace,
            self.settings.name,
            lambda status: (
                None
                if (fields := self._write_fields(status, final)) is None
                else {**fields, **shown}
            ),
            current=sr,
            budget=self.write_budget,
        )
        self.log("finished", status=outcome.status, message=final["message"])
        self._deliver_answer(final, outcome.message, targets)
        self._export_span(final)
        return lifecycle.exit_code(outcome.status)

    # --- delivery of the answer (spec.delivery) ------------------------------------------------

    def _delivery_plan(
        self, final: Mapping[str, Any], targets: list[delivery.Destination]
    ) -> list[dict[str, Any]]:
        run_history = (self.sr.get("status") or {}).get("runHistory") or []
        before = delivery.previous_status(run_history, final)
        items = []
        for target in targets:
            why = delivery.skip_reason(target, str(final["status"]), before)
            if why is None:
                items.append(delivery.item(target.name, "Sending"))
            else:
                items.append(delivery.item(target.name, "Skipped", reason=why))
        return items

    def _resume_delivery(self, entry: Mapping[str, Any]) -> int:
        """A terminal entry: deliver what a stopped runner recorded as Sending and never as
        sent (it may have reached the receiver: the idempotency key lets it drop a repeat)."""
        names = set(delivery.sending(entry))
        if not names:
            return lifecycle.exit_code(str(entry["status"]))
        spec = self.sr.get("spec") or {}
        self.max_history = spec_fields.max_run_history(spec)  # a record must not trim more
        targets = [t for t in delivery.destinations(spec) if t.name in names]
        self.log("delivery-resumed", destinations=sorted(names))
        for gone in sorted(names - {t.name for t in targets}):
            error = "no longer in spec.delivery when the delivery was resumed"
            self._record_delivery(str(entry["id"]), delivery.item(gone, "Failed", error=error))
        # The full answer went with the runner that was stopped; the entry keeps its start.
        self._deliver_answer(entry, str(entry.get("message") or ""), targets)
        return lifecycle.exit_code(str(entry["status"]))

    def _deliver_answer(
        self, final: Mapping[str, Any], answer: str, targets: list[delivery.Destination]
    ) -> None:
        """Send the run to each destination recorded as Sending, and record each result. A
        delivery never changes the run's status or exit code."""
        due = {d.get("name") for d in final.get("delivery") or [] if d.get("result") == "Sending"}
        targets = [t for t in targets if t.name in due]
        if not targets:
            return
        report = delivery.Report(
            self.settings.namespace, self.settings.name, final, answer, self._session_link(final)
        )
        with httpx.Client(transport=webhook.receiver_transport(), follow_redirects=False) as http:
            for target in targets:
                sent = self._deliver_one(http, target, report)
                self.log(
                    "delivered" if sent.result == "Delivered" else "delivery-failed",
                    destination=target.name,
                    attempts=sent.attempts,
                    code=sent.code,
                    error=sent.error,
                )
                recorded = delivery.item(
                    target.name,
                    sent.result,
                    sent.attempts,
                    code=sent.code,
                    error=sent.error,
                    time=history.format_run_time(self.now()),
                )
                self._record_delivery(str(final["id"]), recorded)

    def _deliver_one(
        self, http: httpx.Client, target: delivery.Destination, report: delivery.Report
    ) -> webhook.Sent:
        url = self.environ.get(delivery.env_name(target.name, "URL"), "").strip()
        if not url:
            return webhook.Sent(
                "Failed",
                0,
                error=f"no URL in the pod's {delivery.env_name(target.name, 'URL')}: the Secret"
                " or its key is missing, or the CronJob predates this destination",
            )
        key: bytes | None = None
        if target.signed:
            text = self.environ.get(delivery.env_name(target.name, "KEY"), "")
            if not text:
                return webhook.Sent(
                    "Failed",
                    0,
                    error=f"no signing key in the pod's {delivery.env_name(target.name, 'KEY')}:"
                    " the Secret or its key is missing; not sent unsigned",
                )
            key = text.encode("utf-8")
        try:
            payload = delivery.body(target, report)
        except ValueError as exc:
            return webhook.Sent("Failed", 0, error=str(exc))
        budget = lifecycle.delivery_budget(
            self.settings.delivery_budget,
            lifecycle.job_time_left(self.job, self.now()),
            self.delivery_cap,
        )
        return webhook.send(
            http,
            url,
            payload,
            lambda: delivery.headers(target, report, payload, key, int(self.now().timestamp())),
            budget,
            self.settings.delivery_attempt_timeout,
            lifecycle.backoff_delays(*self.settings.delivery_backoff),
            self.sleep,
            lambda: self.stop_requested,
        )

    def _record_delivery(self, entry_id: str, recorded: Mapping[str, Any]) -> None:
        def update(status: Mapping[str, Any]) -> Mapping[str, Any] | None:
            current = history.find(status.get("runHistory") or [], entry_id)
            if current is None:
                return None  # trimmed away meanwhile: nothing to record it in
            changed = delivery.with_result(current, recorded)
            fields = history.record(status, changed, self.max_history, self.now())
            return {**fields, "lastDelivery": delivery.summary(changed)}

        try:
            self.kube.update_status(
                self.settings.namespace, self.settings.name, update, budget=self.write_budget
            )
            self.log("delivery-recorded", destination=recorded["name"], result=recorded["result"])
        except KubeError as exc:
            self.log("error", error=f"recording the delivery to {recorded['name']} failed: {exc}")

    def _session_link(self, entry: Mapping[str, Any]) -> str | None:
        template = self.settings.session_url
        if not template or not entry.get("sessionID"):
            return None
        target = (self.sr.get("spec") or {}).get("targetRef") or {}
        fields = {
            "namespace": self.settings.namespace,
            "name": self.settings.name,
            "agent": str(target.get("name") or ""),
            "sessionID": str(entry.get("sessionID") or ""),
            "taskID": str(entry.get("taskID") or ""),
        }
        try:
            return template.format_map(fields)
        except (KeyError, ValueError, IndexError):
            return None

    def _export_span(self, final: Mapping[str, Any]) -> None:
        """The run's span to the OTLP endpoint, if one is set (best effort, bounded)."""
        target = otlp.target_from_env()
        if target is None:
            return
        start = history.parse_time(final.get("startTime")) or self.now()
        attributes: dict[str, otlp.Attribute] = {
            "k8s.namespace.name": self.settings.namespace,
            "k8s.job.name": self.settings.job_name,
            "kagent.scheduledrun.name": self.settings.name,
            "kagent.scheduledrun.trigger": str(final.get("trigger") or ""),
            "kagent.scheduledrun.status": str(final.get("status") or ""),
            "a2a.task.id": str(final.get("taskID") or ""),
            "a2a.context.id": str(final.get("sessionID") or ""),
        }
        request = otlp.span_request(
            self.trace,
            start=start,
            end=self.now(),
            attributes={k: v for k, v in attributes.items() if v != ""},
            ok=final.get("status") == "Succeeded",
            message=str(final.get("message") or ""),
            events=[e for e in self.log.steps if e.at >= start],
        )
        error = otlp.export(target, request)
        self.log("span-exported" if not error else "span-not-exported", error=error or None)

    # --- talking to the agent -------------------------------------------------------------

    def _remaining(self) -> float:
        return (self.deadline - self.now()).total_seconds()

    def _request_timeout(self) -> float:
        return max(0.1, min(self.settings.request_timeout, self._remaining()))

    def _drive(self, client: A2AClient, step: str, prompt: str) -> Outcome:
        if step == "send":
            view = self._send(client, prompt)
        elif step == "follow":
            view = self._read_task(client, str(self.entry["taskID"]))
        else:
            view = self._resolve(client, prompt)
        return lifecycle.outcome_of(view) or self._follow(client, view)

    def _discover(self, http: httpx.Client, url: str, persistent: bool) -> AgentInfo:
        """Protocol and streaming from the agent card (protocol fixed by setting, if set)."""
        fixed = _FIXED_PROTOCOLS.get(self.settings.a2a_protocol)
        delays = lifecycle.backoff_delays(*self.settings.dispatch_backoff)
        attempt = 0
        while True:
            attempt += 1
            try:
                timeout = min(10.0, self._request_timeout())
                info = read_card(fetch_card(http, url, timeout, self.identity))
            except (CredentialError, Misbehaved) as exc:  # asking again will not help
                raise Finished(Outcome("DispatchFailed", str(exc))) from None
            except BadAnswer as exc:
                if exc.status_code in (401, 403):
                    raise Finished(
                        Outcome("DispatchFailed", f"the agent refused the runner: {exc}")
                    ) from None
                if exc.status_code is not None and 400 <= exc.status_code < 500:
                    # No card: 0.3, what A2A servers before 1.0 speak (kagent's Python runtimes
                    # reached directly). kagent's controller serves cards, so it is not this case.
                    info = AgentInfo(fixed or "0.3", False)
                    self.log("card", protocol=info.protocol, streaming=False, note=str(exc))
                    return info
                error: A2AError = exc
            except A2AError as exc:
                error = exc
            else:
                info = AgentInfo(fixed or info.protocol, info.streaming)
                self.log("card", protocol=info.protocol, streaming=info.streaming)
                return info
            if fixed is not None:
                self.log("card", protocol=fixed, streaming=False, note=str(error))
                return AgentInfo(fixed, False)
            self.log("card-failed", error=str(error), attempt=attempt)
            if not persistent and attempt >= self.settings.dispatch_attempts:
                raise Finished(Outcome("DispatchFailed", f"{error} (after {attempt} attempts)"))
            self._pause(next(delays), f"agent unreachable until the deadline: {error}")

    def _pause(self, delay: float, why: str) -> None:
        remaining = self._remaining()
        if remaining <= 0:
            raise Finished(lifecycle.timeout_outcome(self.timeout, why))
        self.sleep(min(delay, remaining))

    def _send(self, client: A2AClient, prompt: str) -> TaskView:
        """Send the one message and record how long that took in the entry (`dispatchSeconds`,
        also when the send fails: kagent's dispatch duration counts both)."""
        began = self.monotonic()
        try:
            view, context_id = self._deliver(client, prompt)
        finally:
            self.entry = history.with_dispatch_seconds(self.entry, self.monotonic() - began)
        return self._record_ids(view, context_id)

    def _deliver(self, client: A2AClient, prompt: str) -> tuple[TaskView, str]:
        """Send the one message under the delivery rule (`lifecycle.judge_dispatch_error`); the
        agent's answer (or the task a lookup found) and the run's context id."""
        message_id, context_id = lifecycle.derive_ids(self._job_uid())
        delays = lifecycle.backoff_delays(*self.settings.dispatch_backoff)
        attempt = 0
        while True:
            attempt += 1
            try:
                view = client.send(
                    prompt,
                    message_id,
                    context_id,
                    self._request_timeout(),
                    None if self.context is None else (self.context, previous.METADATA),
                )
            except A2AError as exc:
                verdict = lifecycle.judge_dispatch_error(
                    exc, attempt, self.settings.dispatch_attempts
                )
                self.log("send-failed", error=str(exc), attempt=attempt, next=verdict.action)
                if verdict.action == "stop":
                    assert verdict.outcome is not None
                    raise Finished(verdict.outcome) from None
                if self._remaining() <= 0:
                    raise Finished(
                        lifecycle.uncertain_outcome(
                            str(exc), lifecycle.Lookup(why_unknown="the run's timeout expired")
                        )
                        if verdict.action == "look-up"
                        else Outcome("DispatchFailed", f"{exc}; the run's timeout expired")
                    ) from None
                # A pause first: a task the agent is still creating shows up in the lookup.
                self.sleep(min(next(delays), self._remaining()))
                if verdict.action == "resend":
                    continue
                lookup = self._look_up(client, context_id)
                if lookup.task is not None:
                    return lookup.task, context_id
                if lookup.none and verdict.resend_if_none:
                    continue
                raise Finished(lifecycle.uncertain_outcome(str(exc), lookup)) from None
            self.log("sent", protocol=client.protocol, task=view.task_id, message=view.is_message)
            return view, context_id

    def _job_uid(self) -> str:
        if self.job_uid:
            return str(self.job_uid)
        raise Finished(
            Outcome(
                "DispatchFailed", f"no uid for Job {self.settings.job_name}: set {api.ENV_JOB_UID}"
            )
        )

    def _record_ids(self, view: TaskView, context_id: str) -> TaskView:
        entry = {**self.entry, "sessionID": view.context_id or context_id, "message": "running"}
        if view.task_id and not view.is_message:
            entry["taskID"] = view.task_id
            self.task_id = view.task_id  # known from here on: a SIGTERM cancels it
        if view.is_message:
            self.entry = entry  # the reply is the outcome: one write with the terminal entry
            return view
        self._save(entry)
        self.log("ids-recorded", session=entry["sessionID"], task=view.task_id)
        return view

    def _look_up(self, client: A2AClient, context_id: str) -> lifecycle.Lookup:
        """Ask the agent for the run's task. A lookup that fails, or that the agent cannot
        answer for this caller, is "unknown", never "none"."""
        if client.protocol != "1.0":
            return lifecycle.Lookup(why_unknown="protocol 0.3 has no call to look the task up")
        if not self.identity.authenticated:
            return lifecycle.Lookup(
                why_unknown="the lookup would carry no identity, and kagent lists only the"
                " caller's tasks"
            )
        try:
            tasks = client.list_by_context(context_id, self._request_timeout())
        except A2AError as exc:
            self.log("list-failed", error=str(exc))
            return lifecycle.Lookup(why_unknown=f"looking the task up failed ({exc})")
        self.log("listed", found=0 if tasks is None else len(tasks))
        mine = [t for t in tasks or [] if not t.context_id or t.context_id == context_id]
        if not mine:
            return lifecycle.Lookup(none=True)
        # A listed task may come without its artifacts (a2a-go lists them only on request).
        return lifecycle.Lookup(task=self._read_task(client, mine[0].task_id))

    def _resolve(self, client: A2AClient, prompt: str) -> TaskView:
        """Pending without a task id: adopt the task the last runner may have started; send
        only when an authenticated lookup positively says there is none; else stop."""
        _, context_id = lifecycle.derive_ids(self._job_uid())
        lookup = self._look_up(client, context_id)
        if lookup.task is not None:
            return self._record_ids(lookup.task, context_id)
        if lookup.none:
            self.log("resend", reason="the agent lists no task of this run's context")
            return self._send(client, prompt)
        raise Finished(lifecycle.uncertain_outcome("", lookup, after_restart=True))

    def _read_task(self, client: A2AClient, task_id: str) -> TaskView:
        """The task's state now; transient failures are retried until the deadline."""
        delays = lifecycle.poll_delays()
        rpc_errors = 0
        while True:
            try:
                return client.get(task_id, self._request_timeout())
            except Misbehaved as exc:  # not a blip: the agent is broken, or hostile
                raise Finished(Outcome("Failed", f"following task {task_id}: {exc}")) from None
            except RpcError as exc:
                rpc_errors += 1
                self.log("read-failed", error=str(exc), task=task_id)
                if rpc_errors >= 3:
                    raise Finished(
                        Outcome("Failed", f"reading task {task_id} failed: {exc}")
                    ) from None
            except A2AError as exc:
                self.log("read-failed", error=str(exc), task=task_id)
            if self._remaining() <= 0:
                raise Finished(self._cancel(client, task_id))
            self.sleep(min(next(delays), self._remaining()))

    def _follow(self, client: A2AClient, view: TaskView) -> Outcome:
        """Wait for the task's end: a stream when the agent offers one, else adaptive polling.

        The task is read before every subscribe and re-subscribe: some agents (kagent's
        runtime) send only new events on a subscription, never the current state, so an end
        that falls between two subscriptions would otherwise wait for the idle timer."""
        task_id = view.task_id
        self.task_id = task_id
        polls = lifecycle.poll_delays()
        stream_failures = 0
        self.log("follow", task=task_id, streaming=self.info.streaming)
        while True:
            outcome = lifecycle.outcome_of(view)
            if outcome is not None:
                return outcome
            if self._remaining() <= 0:
                return self._cancel(client, task_id)
            if self.info.streaming and stream_failures < 3:
                view = self._read_task(client, task_id)
                if view.settled:
                    continue
                try:
                    idle = min(self.settings.stream_idle, self._remaining())
                    until = time.monotonic() + self._remaining()
                    for event in client.subscribe(task_id, idle, until):
                        view = event
                        if view.settled or self._remaining() <= 0:
                            break
                except NoAnswer:
                    continue  # an idle stream: look at the deadline, then subscribe again
                except Misbehaved as exc:
                    raise Finished(Outcome("Failed", f"following task {task_id}: {exc}")) from None
                except A2AError as exc:
                    stream_failures += 1
                    self.log("stream-failed", error=str(exc), task=task_id)
                    view = self._read_task(client, task_id)
                    continue
                if view.state == "completed":
                    view = self._read_task(client, task_id)  # the answer lives in the artifacts
                elif not view.settled and self._remaining() > 0:
                    stream_failures += 1  # closed without an end: do not spin on it
                continue
            self.sleep(max(0.0, min(next(polls), self._remaining())))
            view = self._read_task(client, task_id)

    def _cancel(self, client: A2AClient, task_id: str) -> Outcome:
        cancel = self._cancel_note(client, task_id)
        view = None
        if cancel.failed:  # maybe the task just ended: its own outcome beats a timeout
            try:
                view = client.get(task_id, min(10.0, self.settings.request_timeout))
            except A2AError:
                view = None
        finished = lifecycle.outcome_of(view) if view is not None else None
        return finished or lifecycle.timeout_outcome(self.timeout, cancel.note)

    def _cancel_note(self, client: A2AClient, task_id: str) -> Cancelled:
        try:
            view = client.cancel(task_id, min(10.0, self.settings.request_timeout))
        except RpcError as exc:  # kagent's Python runtimes: -32603 Cancellation is not implemented
            self.log("cancel", task=task_id, error=str(exc))
            return Cancelled(
                f"cancelling the task failed: the agent cannot cancel it ({exc}); it may still"
                " be running",
                failed=True,
            )
        except A2AError as exc:
            self.log("cancel", task=task_id, error=str(exc))
            return Cancelled(f"cancelling the task failed: {exc}", failed=True)
        self.log("cancel", task=task_id, state=view.state)
        if view.state == "canceled":
            return Cancelled("the task was cancelled")
        return Cancelled(f"task is {view.state}")
