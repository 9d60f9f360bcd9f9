"""`scheduledrun validate`, `render` and `next` through the real `scheduledrun` click group.

Each case is a file (or stdin) as a person would pass it, and checks the exit status and the
lines printed: verdicts, problems, CronJob YAML, fire times, and a clear message (never a
traceback) for input that is unreadable or not YAML. The rules themselves are tested with
validate.py, cron.py and render.py; this covers how the commands read, report and exit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from runner.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NIGHTLY = str(EXAMPLES / "nightly-report.yaml")
TEAM = str(EXAMPLES / "team-schedules.yaml")

VALID = """\
apiVersion: kagent.dev/v1alpha2
kind: ScheduledRun
metadata:
  name: ok-run
spec:
  schedule: "0 2 * * *"
  timeZone: Europe/Berlin
  targetRef: {kind: Agent, name: k8s-agent}
  prompt: "Report: all good? # not a comment"
"""
BAD_SCHEDULE = VALID.replace("ok-run", "bad-run").replace('"0 2 * * *"', '"0 2 * * 7"')
NEVER = VALID.replace("ok-run", "never-run").replace('"0 2 * * *"', '"0 0 31 2 *"')
AGENT = """\
apiVersion: kagent.dev/v1alpha2
kind: Agent
metadata:
  name: k8s-agent
spec: {}
"""


def invoke(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=stdin)


def write(tmp_path: Path, text: str | bytes, name: str = "sr.yaml") -> str:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


def no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


# -- validate ----------------------------------------------------------------------------------


def test_validate_valid_file_prints_verdict_and_exits_0() -> None:
    result = invoke("validate", NIGHTLY)
    assert (result.exit_code, result.stdout) == (0, f"nightly-report ({NIGHTLY}): valid\n")


def test_validate_multi_document_file_gives_one_verdict_per_object() -> None:
    result = invoke("validate", TEAM)
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f"certificate-expiry ({TEAM}, document 1): valid",
        f"queue-watch ({TEAM}, document 2): valid",
    ]


def test_validate_invalid_file_lists_each_problem_and_exits_1(tmp_path: Path) -> None:
    path = write(tmp_path, BAD_SCHEDULE.replace("Europe/Berlin", "Local"))
    result = invoke("validate", path)
    lines = result.stdout.splitlines()
    assert result.exit_code == 1
    assert lines[0] == f"bad-run ({path}): invalid"
    assert any(line.startswith("  spec.schedule: InvalidSchedule: ") for line in lines[1:])
    assert any(line.startswith("  spec.timeZone: InvalidTimeZone: ") for line in lines[1:])


def test_validate_reads_stdin() -> None:
    result = invoke("validate", "-", stdin=VALID)
    assert (result.exit_code, result.stdout) == (0, "ok-run (<stdin>): valid\n")


def test_validate_one_invalid_among_many_exits_1(tmp_path: Path) -> None:
    path = write(tmp_path, VALID + "---\n" + BAD_SCHEDULE)
    result = invoke("validate", NIGHTLY, path)
    assert result.exit_code == 1
    assert f"ok-run ({path}, document 1): valid" in result.stdout
    assert f"bad-run ({path}, document 2): invalid" in result.stdout


def test_validate_skips_other_kinds(tmp_path: Path) -> None:
    path = write(tmp_path, AGENT + "---\n" + VALID)
    result = invoke("validate", path)
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f"k8s-agent ({path}, document 1): skipped, kind Agent is not a ScheduledRun",
        f"ok-run ({path}, document 2): valid",
    ]


INPUT_ERROR_CASES = [
    pytest.param("a: b: c\n", "is not valid YAML: line 1, column 5", id="not-yaml"),
    pytest.param("key: [unclosed\n", "is not valid YAML", id="unclosed-flow"),
    pytest.param(VALID + "kind: Again\n", "found duplicate key 'kind'", id="duplicate-key"),
    pytest.param(b"\xff\xfe\x00bad", "is not UTF-8 text", id="not-utf8"),
]


@pytest.mark.parametrize(("text", "message"), INPUT_ERROR_CASES)
@pytest.mark.parametrize("command", ["validate", "render", "next"])
def test_unreadable_input_is_a_message_and_exit_2(
    tmp_path: Path, command: str, text: str | bytes, message: str
) -> None:
    path = write(tmp_path, text)
    result = invoke(command, path)
    no_traceback(result)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {path} ")
    assert message in result.stderr


@pytest.mark.parametrize("command", ["validate", "render", "next"])
def test_missing_file_is_a_message_and_exit_2(tmp_path: Path, command: str) -> None:
    missing = str(tmp_path / "nope.yaml")
    result = invoke(command, missing)
    no_traceback(result)
    assert result.exit_code == 2
    assert f"no such file: {missing}" in result.stderr


def test_validate_directory_is_exit_2(tmp_path: Path) -> None:
    result = invoke("validate", str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr == f"error: {tmp_path} is a directory, not a file\n"


def test_validate_reports_good_files_even_when_another_is_missing(tmp_path: Path) -> None:
    result = invoke("validate", NIGHTLY, str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    assert f"nightly-report ({NIGHTLY}): valid" in result.stdout


VERDICT_CASES = [
    pytest.param("- a\n- b\n", "<unnamed>", id="list-document"),
    pytest.param("just text\n", "<unnamed>", id="scalar-document"),
    pytest.param(VALID.replace("kind: ScheduledRun\n", ""), "ok-run", id="no-kind"),
    pytest.param(VALID.replace("ok-run", "Not_A_Name"), "Not_A_Name", id="bad-name"),
    pytest.param(VALID.replace("  prompt:", "  promt:"), "ok-run", id="typo-field"),
]


@pytest.mark.parametrize(("text", "shown"), VERDICT_CASES)
def test_validate_objects_that_are_not_valid_scheduledruns(
    tmp_path: Path, text: str, shown: str
) -> None:
    path = write(tmp_path, text)
    result = invoke("validate", path)
    no_traceback(result)
    assert result.exit_code == 1
    assert result.stdout.startswith(f"{shown} ({path}): invalid\n  ")


@pytest.mark.parametrize(
    "text",
    [pytest.param("", id="empty"), pytest.param("---\n---\n", id="only-separators"),
     pytest.param(AGENT, id="only-other-kinds")],
)  # fmt: skip
def test_validate_without_any_scheduledrun_exits_1(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    result = invoke("validate", path)
    assert result.exit_code == 1
    assert f"error: no ScheduledRun in {path}" in result.stderr


def test_validate_timestamp_like_prompt_is_text(tmp_path: Path) -> None:
    """kubectl sends `prompt: 2024-01-01` as the string it looks like; so do we."""
    path = write(tmp_path, VALID.replace('"Report: all good? # not a comment"', "2024-01-01"))
    assert invoke("validate", path).exit_code == 0


# -- render ------------------------------------------------------------------------------------


def rendered(result: Result) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc is not None]


def test_render_prints_the_cronjob() -> None:
    result = invoke("render", NIGHTLY)
    assert result.exit_code == 0, result.output
    [cronjob] = rendered(result)
    assert (cronjob["kind"], cronjob["metadata"]["name"], cronjob["metadata"]["namespace"]) == (
        "CronJob",
        "nightly-report",
        "kagent",
    )
    assert cronjob["spec"]["timeZone"] == "Europe/Berlin"
    assert cronjob["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"] == 20 * 60 + 60
    assert "ownerReferences" not in cronjob["metadata"]
    assert "Write a short health report" not in result.stdout


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("http://a2a:1/\x85next-line", id="NEL"),
        pytest.param("http://a2a:1/\u2028sep", id="line-separator"),
        pytest.param("http://ä2a:1/ünïcode", id="non-ascii"),
    ],
)
def test_render_output_reads_back_as_the_same_strings(url: str) -> None:
    result = invoke("render", NIGHTLY, "--a2a-base-url", url)
    assert result.exit_code == 0, result.output
    env = rendered(result)[0]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert url in [item.get("value") for item in env["env"]]


RENDER_FLAG_CASES = [
    pytest.param([], "metadata.namespace", "default", id="no-namespace-means-default"),
    pytest.param(["-n", "team"], "metadata.namespace", "team", id="namespace-flag"),
    pytest.param(
        ["--uid", "u-123"], "metadata.ownerReferences.0.uid", "u-123", id="uid-gives-owner"
    ),
    pytest.param(["--runner-image", "reg/r:1"], "CONTAINER.image", "reg/r:1", id="runner-image"),
    pytest.param(
        ["--runner-image-pull-policy", "Always"], "CONTAINER.imagePullPolicy", "Always", id="pull"
    ),
    pytest.param(
        ["--runner-service-account", "sa"], "POD.serviceAccountName", "sa", id="service-account"
    ),
    pytest.param(
        ["--a2a-base-url", "http://a2a:1"], "CONTAINER.env.3.value", "http://a2a:1", id="a2a-url"
    ),
    pytest.param(["--a2a-protocol", "1.0"], "CONTAINER.env.4.value", "1.0", id="a2a-protocol"),
]
_PATH_ALIASES = {
    "POD": "spec.jobTemplate.spec.template.spec",
    "CONTAINER": "spec.jobTemplate.spec.template.spec.containers.0",
}


@pytest.mark.parametrize(("flags", "path", "expected"), RENDER_FLAG_CASES)
def test_render_flags(tmp_path: Path, flags: list[str], path: str, expected: str) -> None:
    result = invoke("render", write(tmp_path, VALID), *flags)
    assert result.exit_code == 0, result.output
    [cronjob] = rendered(result)
    value: Any = cronjob
    head, _, rest = path.partition(".")
    for part in f"{_PATH_ALIASES.get(head, head)}.{rest}".split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    assert value == expected


def test_render_namespace_flag_must_match_the_object() -> None:
    result = invoke("render", NIGHTLY, "--namespace", "other")
    no_traceback(result)
    assert result.exit_code == 2
    assert "does not match metadata.namespace kagent" in result.stderr


def test_render_multi_document_prints_every_cronjob() -> None:
    result = invoke("render", TEAM)
    assert result.exit_code == 0
    names = [c["metadata"]["name"] for c in rendered(result)]
    assert names == ["certificate-expiry", "queue-watch"]


def test_render_reads_stdin() -> None:
    result = invoke("render", "-", stdin=VALID)
    assert [c["metadata"]["name"] for c in rendered(result)] == ["ok-run"]


def test_render_invalid_prints_problems_to_stderr_and_nothing_to_stdout(tmp_path: Path) -> None:
    result = invoke("render", write(tmp_path, VALID + "---\n" + BAD_SCHEDULE))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "bad-run" in result.stderr
    assert "  spec.schedule: InvalidSchedule: " in result.stderr


def test_render_bad_flag_value_is_a_usage_error() -> None:
    result = invoke("render", NIGHTLY, "--a2a-protocol", "2.0")
    assert result.exit_code == 2
    assert "Invalid value for '--a2a-protocol'" in result.stderr


# -- next --------------------------------------------------------------------------------------


NEXT_CASES = [
    pytest.param(
        VALID,
        ["--after", "2026-03-28T12:00:00Z", "--count", "2"],
        [
            'ok-run (<stdin>): "0 2 * * *" in Europe/Berlin',
            # 02:00 on 29 March does not exist in Berlin (clocks jump to 03:00): skipped that day.
            "  2026-03-30T00:00:00Z  2026-03-30T02:00:00+02:00 Europe/Berlin",
            "  2026-03-31T00:00:00Z  2026-03-31T02:00:00+02:00 Europe/Berlin",
        ],
        id="berlin-spring-forward-skips-the-gap",
    ),
    pytest.param(
        VALID.replace("  timeZone: Europe/Berlin\n", ""),
        ["--after", "2026-01-01T02:00:00+00:00", "--count", "1"],
        ['ok-run (<stdin>): "0 2 * * *" in UTC', "  2026-01-02T02:00:00Z"],
        id="utc-default-one-column",
    ),
    pytest.param(
        NEVER,
        ["--after", "2026-01-01T00:00:00Z"],
        [
            'never-run (<stdin>): "0 0 31 2 *" in Europe/Berlin',
            "  never: this schedule has no time it can fire",
        ],
        id="never",
    ),
    pytest.param(
        VALID.replace("spec:\n", "spec:\n  suspend: true\n"),
        ["--after", "2026-05-31T12:00:00Z", "--count", "1"],
        [
            'ok-run (<stdin>): "0 2 * * *" in Europe/Berlin',
            "  suspended: no scheduled run fires until spec.suspend is false",
            "  2026-06-01T00:00:00Z  2026-06-01T02:00:00+02:00 Europe/Berlin",
        ],
        id="suspended-is-said",
    ),
    pytest.param(
        VALID.replace("  prompt:", "  promt:"),
        ["--after", "2026-05-31T12:00:00Z", "--count", "1"],
        [
            'ok-run (<stdin>): "0 2 * * *" in Europe/Berlin',
            "  note: the object has other problems (see `scheduledrun validate`)",
            "  2026-06-01T00:00:00Z  2026-06-01T02:00:00+02:00 Europe/Berlin",
        ],
        id="other-problems-only-noted",
    ),
]


@pytest.mark.parametrize(("text", "flags", "lines"), NEXT_CASES)
def test_next_prints_the_fire_times_a_file_asks_for(
    text: str, flags: list[str], lines: list[str]
) -> None:
    result = invoke("next", "-", *flags, stdin=text)
    assert (result.exit_code, result.stdout.splitlines()) == (0, lines)


def test_next_of_invalid_schedule_prints_problem_and_exits_1() -> None:
    result = invoke("next", "-", stdin=BAD_SCHEDULE)
    assert result.exit_code == 1
    assert result.stdout.startswith("bad-run (<stdin>): invalid\n  spec.schedule: InvalidSchedule")


def test_next_of_a_name_without_a_cluster_says_so(tmp_path: Path) -> None:
    result = invoke("next", "nightly-report", "--kubeconfig", str(tmp_path / "missing"))
    no_traceback(result)
    assert result.exit_code == 1
    assert "no cluster to talk to" in result.stderr


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        pytest.param(["--after", "yesterday"], "is not an RFC 3339 time", id="after-not-a-time"),
        pytest.param(["--after", "2026-01-01T00:00:00"], "has no UTC offset", id="after-naive"),
        pytest.param(["--count", "0"], "Invalid value for '--count'", id="count-zero"),
    ],
)
def test_next_bad_flags_are_usage_errors(flags: list[str], message: str) -> None:
    result = invoke("next", NIGHTLY, *flags)
    assert result.exit_code == 2
    assert message in result.stderr


SAME_HOUR = """\
apiVersion: kagent.dev/v1alpha2
kind: ScheduledRun
metadata: {name: NAME, namespace: team}
spec:
  schedule: "SCHEDULE"
  targetRef: {kind: Agent, name: k8s-agent}
  prompt: "Report."
"""


def same_hour(*pairs: tuple[str, str]) -> str:
    return "---\n".join(
        SAME_HOUR.replace("NAME", name).replace("SCHEDULE", schedule) for name, schedule in pairs
    )


def test_next_shows_how_many_others_fire_at_each_time(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        same_hour(("a", "0 * * * *"), ("b", "0 * * * *"), ("c", "0 */2 * * *"), ("d", "5 * * * *")),
    )
    result = invoke("next", path, "--count", "2", "--after", "2026-06-01T08:30:00Z")
    assert result.exit_code == 0, result.output
    first = result.output.split("\n")[:3]
    assert first == [
        f'a ({path}, document 1): "0 * * * *" in UTC',
        "  2026-06-01T09:00:00Z  (+1 other in team)",
        "  2026-06-01T10:00:00Z  (+2 others in team)",
    ]
    assert "  2026-06-01T09:05:00Z\n" in result.output  # d shares no minute: no count


def test_validate_names_the_busiest_shared_minute_and_the_h_form(tmp_path: Path) -> None:
    path = write(tmp_path, same_hour(("a", "0 * * * *"), ("b", "0 * * * *"), ("c", "H * * * *")))
    result = invoke("validate", path)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"a ({path}, document 1): valid"
    assert lines[1].startswith("  shares ")
    assert lines[1].endswith(
        ' with 1 other ScheduledRun in namespace team; "H * * * *" keeps its hour and spreads'
        " the minute"
    )
    assert lines[4] == f"c ({path}, document 3): valid"  # hashed apart: nothing shared
    assert len(lines) == 5
