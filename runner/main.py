"""`scheduledrun run`: the runner container's entry point.

Reads its settings from flags and the environment the rendered CronJob sets, runs `runner.run.Run`
once and turns the outcome into the exit code the Job's pod-failure policy understands. Every
failure ends as one JSON log line on stderr, never a traceback.
"""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType
from typing import IO

import click

from runner import api
from runner.kube import KubeClient, KubeError, load_credentials
from runner.options import a2a_options
from runner.run import Log, Run, Settings


def execute(settings: Settings, stream: IO[str] | None = None) -> int:
    """Run once and return the exit code; never raises (errors become log lines and exit 1)."""
    log = Log(
        stream or sys.stderr,
        namespace=settings.namespace,
        name=settings.name,
        job=settings.job_name,
    )
    log("start", protocol=settings.a2a_protocol, base=settings.a2a_base_url)
    try:
        kube = KubeClient(load_credentials())
    except (KubeError, OSError, ValueError) as exc:
        log("error", error=str(exc))
        return api.EXIT_RETRY
    run = Run(settings, kube, log)

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        run.request_stop()

    # Only the main thread may set a handler (tests call this from others: no handler there).
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, on_sigterm) if main else None
    try:
        return run.execute()
    except KubeError as exc:
        final = exc.status == 404
        log("error", error=str(exc), retry=not final)
        return api.EXIT_FINAL_FAILURE if final else api.EXIT_RETRY
    except Exception as exc:  # a crash must still say what happened, as one line
        log("error", error=f"{type(exc).__name__}: {exc}", retry=True)
        return api.EXIT_RETRY
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)
        kube.close()


@click.command("run")
@click.option("--namespace", required=True, help="Namespace of the ScheduledRun.")
@click.option("--name", required=True, help="Name of the ScheduledRun.")
@click.option("--job-name", envvar=api.ENV_JOB_NAME, required=True, help="This run's Job name.")
@click.option("--job-uid", envvar=api.ENV_JOB_UID, default=None, help="This run's Job uid.")
@a2a_options
@click.option(
    "--a2a-token-file",
    envvar=api.ENV_A2A_TOKEN_FILE,
    default=None,
    help="File holding a bearer token for kagent (sent as Authorization to the agent's origin"
    " only; read on every request, never logged).",
)
@click.option(
    "--session-url",
    envvar=api.ENV_SESSION_URL,
    default=None,
    help="Link template to a run's session in kagent's UI, sent with each delivery as"
    " sessionLink (fields: {namespace}, {name}, {agent}, {sessionID}, {taskID}).",
)
def run_command(
    namespace: str,
    name: str,
    job_name: str,
    job_uid: str | None,
    a2a_base_url: str,
    a2a_protocol: str,
    a2a_user_id: str,
    a2a_token_file: str | None,
    session_url: str | None,
) -> None:
    """Send the ScheduledRun's prompt to its agent once, follow the task, record the outcome."""
    settings = Settings(
        namespace=namespace,
        name=name,
        job_name=job_name,
        job_uid=job_uid or None,
        a2a_base_url=a2a_base_url,
        a2a_protocol=a2a_protocol,
        a2a_user_id=a2a_user_id,
        a2a_token_file=a2a_token_file or None,
        session_url=session_url or None,
    )
    sys.exit(execute(settings))
