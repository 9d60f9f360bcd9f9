"""What the operator wants to be true for one ScheduledRun, as pure functions of what exists now.

The controller (generator/operator/controller.py) reads what exists (the ScheduledRun, whether its
target exists, the CronJob the cluster cache holds, the clock) and passes it here; this module
answers with a `Plan`: the CronJob to write (or to suspend), the status fields to write (or nothing,
when they already hold the desired values: writes are the cost an idle operator must not pay), the
event to post, and when to look again. No I/O and no clock of its own, so every decision is a table
test with fixed instants. `make_plan` is the one place a reconcile decides: what the last CronJob
write taught (the API server's rejection, a foreign CronJob in the way) and the `Pending` entries
whose Job ended (generator/operator/sweep.py) are inputs like the rest, and the status write it
asks for carries them all, guarded by the resourceVersion it was computed from."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import orjson

from generator.cronjob import drift, render
from generator.cronjob.config import OperatorConfig
from generator.operator import hotminute, sweep
from generator.operator import missed as missed_runs
from generator.schedule import cron, hashed, load
from generator.spec import policies, validate
from generator.spec.policies import Event as Event  # one Event type for plans and policies
from runner import api, conditions, history, spec_fields
from runner.conditions import ConditionType, EventReason, Reason

# The CronJob controller creates a tick's Job at the tick (it polls every 10 s or less); a second
# after the tick the status can move `nextRunTime` on without racing the tick itself.
AFTER_TICK: Final = timedelta(seconds=1)
# A level-based safety net: even with nothing due, look at each ScheduledRun again this often, so
# a lost watch event heals without a restart. Long, because every look costs a GET.
RESYNC: Final = timedelta(hours=1)
# A conflict (a foreign CronJob or RoleBinding in the way) is looked at again this soon: the
# operator does not watch RoleBindings, and a foreign CronJob's deletion event (handlers.py
# watches every CronJob's) can be lost like any watch event; each look is one GET.
CONFLICT_RECHECK: Final = timedelta(minutes=1)


@dataclass(frozen=True)
class CronJobState:
    """The operator's CronJob as its cache last saw it. `live` is its labels, annotations, owner
    references and spec as compact JSON (what drift is judged on; text, because it is kept for
    every CronJob and read only when the ScheduledRun is reconciled), `digest` a hash of it;
    None when only the spec hash is known."""

    name: str
    spec_hash: str | None
    suspended: bool
    created: str | None = None  # creationTimestamp: where an `@every` schedule counts from
    live: str | None = None
    digest: str = ""
    owner_uid: str | None = None  # uid of its controller owner reference (None: no controller)
    # status.lastScheduleTime: the CronJob controller has moved past every tick before it.
    last_schedule: str | None = None


@dataclass(frozen=True)
class Observed:
    """What exists now, besides the ScheduledRun itself."""

    now: datetime
    target_exists: bool
    cronjob: CronJobState | None
    # What stands in the way, as found by a read: a CronJob of the rendered name that this
    # ScheduledRun does not control (it may carry no label, so the cache cannot know it), or a
    # runner RoleBinding of the namespace bound elsewhere. A sentence saying what, or None.
    cronjob_conflict: str | None = None
    access_conflict: str | None = None
    # The API server's refusal of this generation's CronJob (a rule validation missed), as the
    # last write learned it: the spec is then invalid until it changes.
    rejected: str | None = None
    # `Pending` entries whose Job failed or is confirmed gone: ended in the same status write.
    resolutions: tuple[sweep.Resolution, ...] = ()
    # The minute it fires in is shared by more ScheduledRuns than `hot_minute_capacity`
    # (generator/operator/hotminute.py), None when not.
    hot_minute: load.Crowded | None = None
    hot_minute_capacity: int = 0
    # Every tick up to this instant has been judged started or missed (generator/operator/
    # missed.py); None: first sight, nothing judged (the judging starts now).
    missed_since: datetime | None = None
    missed_next: datetime | None = None  # the first tick after it, when known
    started: frozenset[datetime] = frozenset()  # scheduled times of its Jobs


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    reason: Reason
    message: str


@dataclass(frozen=True)
class Conflict:
    """A foreign object in the way: the Accepted reason it gives, and what it is."""

    reason: Reason
    message: str


@dataclass(frozen=True)
class Plan:
    verdict: Verdict
    write_cronjob: dict[str, Any] | None  # create the CronJob with this body, or replace it
    suspend_cronjob: str | None  # merge-patch suspend: true into this existing CronJob
    # Merge patch for /status carrying the resourceVersion it was computed from (a conflict means
    # a runner wrote meanwhile: read again); None: nothing to write.
    status_patch: dict[str, Any] | None
    event: Event | None
    look_again_at: datetime | None
    active: bool  # accepted and not suspended: the schedule fires
    policy_event: Event | None = None  # a pause, resume or stop (generator/spec/policies.py)
    hot_minute_event: Event | None = None  # the schedule's minute became crowded
    missed: tuple[missed_runs.Missed, ...] = ()  # ticks found passed without a Job
    missed_event: Event | None = None
    judged_through: datetime | None = None  # every tick up to here is judged (None: now)
    next_tick: datetime | None = None  # the first tick after judged_through, when known
    # Why the CronJob is written: "create" (none exists), "update" (the ScheduledRun or the
    # settings changed), "revert" (someone edited it: `reverted` says where); None: no write.
    cronjob_action: str | None = None
    reverted: tuple[drift.Difference, ...] = ()
    accepted_changed: bool = False  # the Accepted condition changes status or reason
    swept: tuple[sweep.Resolution, ...] = ()  # the resolutions the status patch carries
    # The fingerprint of what the CronJob is rendered from, when rendered or known in step: with
    # the written CronJob's digest, the key under which its hash is remembered (HashCache).
    fingerprint: str | None = None
    cronjob: str | None = None  # the name of the CronJob the plan leaves in step


bounded = sweep.bounded  # one length for a condition's message and an entry's


def target_key(sr: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """(namespace, kind, name) of the target as the cache keys targets, None when unusable."""
    meta = sr.get("metadata") or {}
    ref = (sr.get("spec") or {}).get("targetRef")
    if not isinstance(ref, Mapping):
        return None
    group, kind, name = (
        ref.get("apiGroup") or api.TARGET_GROUP,
        ref.get("kind"),
        ref.get("name"),
    )
    if group != api.TARGET_GROUP or kind not in api.TARGET_KINDS or not isinstance(name, str):
        return None
    return (str(meta.get("namespace", "")), str(kind), name)


def owner_uid(obj: Mapping[str, Any]) -> str | None:
    """The uid of an object's controller owner reference, None when nothing controls it."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if isinstance(ref, Mapping) and ref.get("controller") is True:
            uid = ref.get("uid")
            return str(uid) if uid else None
    return None


def foreign_cronjob(sr: Mapping[str, Any], cronjob: Mapping[str, Any]) -> str | None:
    """Why `cronjob` (of the name `sr` renders) is not `sr`'s to write, or None when `sr`
    controls it (controller owner reference with `sr`'s uid)."""
    name = str((cronjob.get("metadata") or {}).get("name"))
    return cronjob_conflict(sr, owner_uid(cronjob), name)


def cronjob_conflict(sr: Mapping[str, Any], have_owner: str | None, name: str) -> str | None:
    uid = (sr.get("metadata") or {}).get("uid")
    if have_owner == uid:
        return None
    whose = "is controlled by another object" if have_owner else "is not controlled by any object"
    return (
        f"CronJob {name} already exists and {whose}; it is left untouched. Delete or rename it,"
        " or rename this ScheduledRun"
    )


def judge(
    sr: Mapping[str, Any],
    target_exists: bool,
    rejected: str | None = None,
    conflict: Conflict | None = None,
) -> Verdict:
    """The Accepted condition: the first problem of the spec, else the API server's rejection of
    its CronJob (a rule validation missed), else a foreign object in the way (`conflict`), else
    whether the target exists."""
    problems = validate.validate_scheduledrun(sr)
    if problems:
        text = "; ".join(f"{p.field}: {p.message}" for p in problems)
        return Verdict(False, problems[0].reason, bounded(text))
    if rejected is not None:
        return Verdict(False, Reason.INVALID_SPEC, bounded(f"the CronJob was rejected: {rejected}"))
    if conflict is not None:
        return Verdict(False, conflict.reason, bounded(conflict.message))
    key = target_key(sr)
    if key is None:  # validation covers this; kept so a validator gap cannot fire a schedule
        return Verdict(False, Reason.INVALID_TARGET_REF, "spec.targetRef: unsupported target")
    if not target_exists:
        namespace, kind, name = key
        return Verdict(
            False,
            Reason.TARGET_NOT_FOUND,
            f'{kind} "{name}" not found in namespace "{namespace}"; the CronJob stays suspended'
            " until it exists",
        )
    name = render.cronjob_name(str(sr["metadata"]["name"]))
    return Verdict(True, Reason.SCHEDULE_ACCEPTED, f"CronJob {name} carries the schedule")


def spec_hash(body: Mapping[str, Any]) -> str:
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def desired_cronjob(
    sr: Mapping[str, Any],
    settings: OperatorConfig,
    verdict: Verdict,
    held: bool = False,
    schedule: str | None = None,
) -> dict[str, Any] | None:
    """The CronJob to write: rendered, suspended unless accepted, stamped with its hash. None when
    the spec itself is invalid (nothing sensible to render; an existing CronJob is suspended).
    `schedule`: the effective schedule, when the caller has computed it already."""
    if verdict.reason in conditions.SPEC_REASONS:
        return None
    try:
        body = render.render_cronjob(sr, settings, schedule)
    except render.RenderError:
        return None
    if not verdict.accepted or held:  # held: a policy (generator/spec/policies.py) stopped it
        body["spec"]["suspend"] = True
    annotations = body["metadata"].setdefault("annotations", {})
    annotations[api.ANNOTATION_SPEC_HASH] = spec_hash(body)
    return body


def schedule_of(sr: Mapping[str, Any]) -> str | None:
    """The schedule the CronJob carries (`H` expanded), None when it cannot be read."""
    try:
        return hashed.effective_schedule(sr)
    except cron.CronError:
        return None


def next_fire(
    sr: Mapping[str, Any], schedule: str | None, now: datetime, cronjob: CronJobState | None
) -> datetime | None:
    """When `schedule` (the effective one) fires next after `now`, None when never.

    An `@every` schedule counts from the CronJob's creation (the CronJob controller starts its
    chain of ticks there), not from `now`, or the answer would move with every look."""
    if schedule is None:
        return None
    try:
        parsed = cron.parse_schedule(schedule)
        if isinstance(parsed, cron.EverySchedule):
            created = cronjob.created if cronjob else None
            anchor = history.parse_time(
                created or (sr.get("metadata") or {}).get("creationTimestamp")
            )
            if anchor is not None and parsed.seconds > 0:
                step = timedelta(seconds=parsed.seconds)
                return anchor + step * ((now - anchor) // step + 1)
        zone = spec_fields.time_zone(sr.get("spec") or {})
        times = cron.next_fire_times(schedule, zone, now, 1)
    except cron.CronError:
        return None
    return times[0] if times else None


def next_run_time(
    sr: Mapping[str, Any], now: datetime, cronjob: CronJobState | None = None
) -> datetime | None:
    """When the CronJob fires next, None when it never will (or the schedule is unreadable)."""
    return next_fire(sr, schedule_of(sr), now, cronjob)


def accepted_condition(
    verdict: Verdict, generation: int | None, current: Mapping[str, Any] | None, now: datetime
) -> dict[str, Any]:
    """The `Accepted` metav1.Condition; the transition time moves only when the status does."""
    status = "True" if verdict.accepted else "False"
    same = current is not None and current.get("status") == status
    since = current.get("lastTransitionTime") if same and current else None
    condition: dict[str, Any] = {
        "type": ConditionType.ACCEPTED,
        "status": status,
        "reason": verdict.reason,
        "message": verdict.message,
        "lastTransitionTime": since or history.format_time(now),
    }
    if generation is not None:
        condition["observedGeneration"] = generation
    return condition


def status_patch(
    current: Mapping[str, Any], desired: Mapping[str, Any], version: str | None = None
) -> dict[str, Any] | None:
    """A merge patch turning the fields of `desired` in `current` into their desired values
    (None deletes), or None when they already hold them. With the `version` (resourceVersion)
    `current` was read at, the API server refuses the patch if the object changed since."""
    changes = {k: v for k, v in desired.items() if current.get(k) != v}
    if not changes:
        return None
    if version is None:
        return {"status": changes}
    return {"metadata": {"resourceVersion": version}, "status": changes}


def transition_event(verdict: Verdict, current: Mapping[str, Any] | None) -> Event | None:
    """An event when Accepted changes status or reason. A first acceptance posts none (the status
    says it, and an event per new object would double the writes of a bulk apply); a first
    rejection does, since someone must notice it."""
    if current is not None and (current.get("status"), current.get("reason")) == (
        "True" if verdict.accepted else "False",
        verdict.reason,
    ):
        return None
    if verdict.reason == Reason.SCHEDULE_NEVER_FIRES:
        return Event("Warning", verdict.reason, verdict.message)
    if verdict.accepted:
        return (
            None if current is None else Event("Normal", Reason.SCHEDULE_ACCEPTED, verdict.message)
        )
    return Event("Warning", verdict.reason, verdict.message)


def never_fires(sr: Mapping[str, Any], verdict: Verdict, upcoming: datetime | None) -> Verdict:
    """An accepted verdict turned into `ScheduleNeverFires` when no date matches the schedule
    (`upcoming`: its next fire time, None when none)."""
    if not verdict.accepted or upcoming is not None:
        return verdict
    schedule = str((sr.get("spec") or {}).get("schedule"))
    return Verdict(
        True,
        Reason.SCHEDULE_NEVER_FIRES,
        f"spec.schedule {json.dumps(schedule)} matches no date within five years, so it never"
        " fires; only manual runs (kubectl create job --from) will happen",
    )


def live_cronjob(have: CronJobState) -> dict[str, Any] | None:
    """The stored live CronJob, parsed (None when only its hash is known)."""
    if have.live is None:
        return None
    parsed: dict[str, Any] = orjson.loads(have.live)
    return parsed


def cronjob_drift(desired: Mapping[str, Any], have: CronJobState) -> list[drift.Difference]:
    """Where the live CronJob differs from the desired one, in the fields the operator renders.
    With only its hash known, a differing hash or suspension is the one difference."""
    live = live_cronjob(have)
    if live is not None:
        wanted = {
            "metadata": {
                k: v for k, v in desired["metadata"].items() if k not in ("name", "namespace")
            },
            "spec": desired["spec"],
        }
        return drift.differences(wanted, live)
    found = []
    wanted_hash = desired["metadata"]["annotations"][api.ANNOTATION_SPEC_HASH]
    if have.spec_hash != wanted_hash:
        path = f"metadata.annotations.{api.ANNOTATION_SPEC_HASH}"
        found.append(drift.Difference(path, wanted_hash, have.spec_hash))
    if have.suspended != desired["spec"]["suspend"]:
        found.append(drift.Difference("spec.suspend", desired["spec"]["suspend"], have.suspended))
    return found


class HashCache:
    """Remembers the spec hash of recently rendered CronJobs by a fingerprint of their inputs.

    Rendering (a template plus a YAML parse) is the dearest step of a reconcile, and most events
    (our own status write, a runner's history write) leave the CronJob as it is; with the hash
    remembered, such an event is answered without rendering. Bounded: oldest entries go first.
    The settings are not in the fingerprint, so one cache serves one settings value.
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self.hashes: dict[str, str] = {}

    def get(self, key: str) -> str | None:
        return self.hashes.get(key)

    def put(self, key: str, value: str) -> None:
        self.hashes.pop(key, None)
        self.hashes[key] = value
        while len(self.hashes) > self.size:
            del self.hashes[next(iter(self.hashes))]


def hash_key(rendered_from: str, digest: str) -> str:
    """Where a CronJob's hash is remembered: what it was rendered from, and the live object."""
    return f"{rendered_from}:{digest}"


def remember(cache: HashCache, decided: Plan, cronjob: CronJobState) -> None:
    """After `decided`, `cronjob` holds what it renders (written, or found in step): remember
    its hash, so the next plan from the same inputs against the same object does not render."""
    if decided.fingerprint is not None and cronjob.spec_hash is not None:
        cache.put(hash_key(decided.fingerprint, cronjob.digest), cronjob.spec_hash)


def fingerprint(sr: Mapping[str, Any], verdict: Verdict, held: bool = False) -> str:
    """Everything of the object that the rendered CronJob depends on, hashed."""
    meta = sr.get("metadata") or {}
    parts = [meta.get(k) for k in ("name", "namespace", "uid", "generation", "creationTimestamp")]
    inputs = [parts, sr.get("spec"), verdict.accepted, held]
    return hashlib.sha256(
        orjson.dumps(inputs, option=orjson.OPT_SORT_KEYS, default=str)
    ).hexdigest()


def desired_suspend(sr: Mapping[str, Any], verdict: Verdict, held: bool = False) -> bool:
    return not verdict.accepted or held or spec_fields.suspend(sr.get("spec") or {})


def conflict_of(sr: Mapping[str, Any], observed: Observed) -> Conflict | None:
    """The foreign object in the way, or None. The CronJob comes first: with it settled the
    RoleBinding is all that blocks the runs."""
    if observed.cronjob_conflict is not None:
        return Conflict(Reason.CRONJOB_CONFLICT, observed.cronjob_conflict)
    have = observed.cronjob
    if have is not None:
        found = cronjob_conflict(sr, have.owner_uid, have.name)
        if found is not None:
            return Conflict(Reason.CRONJOB_CONFLICT, found)
    if observed.access_conflict is not None:
        return Conflict(Reason.RUNNER_ACCESS_CONFLICT, observed.access_conflict)
    return None


def judge_ticks(
    sr: Mapping[str, Any], schedule: str | None, have: CronJobState | None, observed: Observed
) -> missed_runs.Judgement:
    """Which ticks since the last look passed without a Job (`schedule`: None while it does not
    fire, when nothing is judged and the judging starts again from now)."""
    since = observed.missed_since
    if schedule is None or since is None:
        return missed_runs.Judgement((), observed.now)
    status, spec = sr.get("status") or {}, sr.get("spec") or {}
    recorded = history.parse_time(status.get("lastMissedTime"))
    if recorded is not None and recorded > since:
        since = recorded  # counted already (a write this process did not see back yet)
    started = set(observed.started)
    for entry in status.get("runHistory") or []:
        when = history.parse_time(entry.get("scheduledTime")) if isinstance(entry, dict) else None
        if when is not None:
            started.add(when)
    deadline = spec.get("startingDeadlineSeconds")
    return missed_runs.judge(
        schedule,
        spec_fields.time_zone(spec),
        since,
        observed.now,
        history.parse_time(have.last_schedule) if have else None,
        deadline if isinstance(deadline, int) else None,
        started,
        observed.missed_next if since == observed.missed_since else None,
    )


def make_plan(
    sr: Mapping[str, Any],
    settings: OperatorConfig,
    observed: Observed,
    cache: HashCache | None = None,
) -> Plan:
    """Everything the operator should do for `sr` now. With a `cache` (read here, filled by
    `remember` once the plan is carried out), a CronJob known to match is not rendered again.
    The effective schedule and its next fire time are computed once."""
    meta, spec = sr.get("metadata") or {}, sr.get("spec") or {}
    status = sr.get("status") or {}
    have = observed.cronjob
    conflict = conflict_of(sr, observed)
    ours = conflict is None or conflict.reason != Reason.CRONJOB_CONFLICT
    if not ours:
        have = None  # someone else's: never applied, suspended or named as ours
    schedule = schedule_of(sr)
    upcoming = next_fire(sr, schedule, observed.now, have)
    judged = judge(sr, observed.target_exists, observed.rejected, conflict)
    verdict = never_fires(sr, judged, upcoming)
    # Not accepted: suspended anyway; the policies' conditions stay as they are until it is.
    policy = policies.decide(sr, observed.now) if verdict.accepted else policies.unchanged(status)
    held = policy.held
    if verdict.reason in conditions.SPEC_REASONS:
        schedule = None  # too broken to render: no effective schedule either

    desired_name: str | None = None
    write = None
    action: str | None = None
    reverted: tuple[drift.Difference, ...] = ()
    rendered_from: str | None = None
    if ours and schedule is not None:
        # The key covers the live CronJob too: a hit means "this spec against this live object
        # was found in step", so an edit of the CronJob (a new digest) is always looked at.
        rendered_from = fingerprint(sr, verdict, held) if cache is not None else None
        key = hash_key(rendered_from or "", have.digest if have else "")
        known = cache.get(key) if cache is not None else None
        if known is not None and have is not None and have.spec_hash == known:
            desired_name = have.name
        else:
            desired = desired_cronjob(sr, settings, verdict, held, schedule)
            if desired is not None:
                desired_name = desired["metadata"]["name"]
                wanted = desired["metadata"]["annotations"][api.ANNOTATION_SPEC_HASH]
                found = cronjob_drift(desired, have) if have is not None else []
                if have is None:
                    write, action = desired, "create"
                elif found and have.spec_hash != wanted:
                    write, action = desired, "update"
                elif found:  # our hash, other values: someone edited the CronJob
                    write, action, reverted = desired, "revert", tuple(found)
    suspend = None
    if desired_name is None and have is not None and not have.suspended:
        suspend = have.name

    active = verdict.accepted and not held and not spec_fields.suspend(spec)
    next_run = upcoming if active else None
    if next_run is not None and policy.end_time is not None and next_run > policy.end_time:
        next_run = None  # the next tick would come after spec.endTime: there is none
    current_condition = conditions.find(status, ConditionType.ACCEPTED)
    generation = meta.get("generation")
    condition = accepted_condition(verdict, generation, current_condition, observed.now)
    owned = {ConditionType.ACCEPTED, ConditionType.HOT_MINUTE, *policies.CONDITIONS}
    others = [c for c in status.get("conditions") or [] if c.get("type") not in owned]
    hot, hot_event = hotminute.condition(
        observed.hot_minute if active else None,
        observed.hot_minute_capacity,
        str(spec.get("schedule")),
        hotminute.find(status),
        observed.now,
    )
    desired_status = {
        "observedGeneration": generation,
        "conditions": [*others, condition, *policy.conditions(), *([hot] if hot else [])],
        "resumedAt": policy.resumed_at,
        "cronJobName": desired_name or (have.name if have else None),
        "effectiveSchedule": schedule,
        "suspended": desired_suspend(sr, verdict, held),
        "nextRunTime": history.format_time(next_run) if next_run else None,
    }
    ticks = judge_ticks(sr, schedule if active else None, have, observed)
    if ticks.missed:
        newest = ticks.missed[-1]
        desired_status["missedRuns"] = int(status.get("missedRuns") or 0) + len(ticks.missed)
        desired_status["lastMissedTime"] = history.format_time(newest.tick)
        desired_status["lastMissedReason"] = str(newest.reason)
    swept = sweep.resolve(status, observed.resolutions, observed.now)
    if swept is not None:
        desired_status.update(swept)
    look_again = observed.now + (RESYNC if conflict is None else CONFLICT_RECHECK)
    if next_run is not None:
        look_again = min(look_again, next_run + AFTER_TICK)
    if policy.look_again_at is not None:
        look_again = min(look_again, policy.look_again_at)
    if ticks.undecided is not None:
        look_again = min(look_again, observed.now + missed_runs.RECHECK)
    changed = current_condition is None or (
        current_condition.get("status"),
        current_condition.get("reason"),
    ) != (condition["status"], condition["reason"])
    return Plan(
        verdict=verdict,
        write_cronjob=write,
        suspend_cronjob=suspend,
        status_patch=status_patch(status, desired_status, meta.get("resourceVersion")),
        event=transition_event(verdict, current_condition),
        look_again_at=look_again,
        active=active,
        policy_event=policy.event,
        hot_minute_event=hot_event,
        missed=ticks.missed,
        missed_event=Event("Warning", EventReason.MISSED_RUN, missed_runs.describe(ticks.missed))
        if ticks.missed
        else None,
        judged_through=ticks.through,
        next_tick=ticks.next_tick,
        cronjob_action=action,
        reverted=reverted,
        accepted_changed=changed,
        swept=observed.resolutions if swept is not None else (),
        fingerprint=rendered_from if desired_name is not None else None,
        cronjob=desired_name,
    )
