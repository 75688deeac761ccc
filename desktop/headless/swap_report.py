"""What ``swap`` tells its user while and after it runs: progress, results, failures.

People get a progress bar (videos) and one line per result on stdout; ``--json`` gets
one JSON line per event, each naming its target, so a batch reads as a stream.
"""

from __future__ import annotations

import sys
import time

from ...core.errors import FaceDeckError
from ...core.jobs.events import JobEvent, Progress
from ...core.jobs.result import JobResult
from ...core.jobs.spec import JobKind
from ..errors import cli_message, exit_code
from .common import emit_json, say
from .progress import ProgressBar, human_duration

# What a remote run is doing, as the stages its events name (remote/remote_run.py, fanout.py).
REMOTE_STAGES = {
    "split": "splitting the video at keyframes",
    "upload": "uploading the inputs",
    "queue": "waiting for a worker",
    "frames": "swapping on the worker",
    "download": "downloading the result",
    "join": "joining the parts",
}


class ProgressReporter:
    """Job events as a progress bar (people) or progress lines once a second (--json)."""

    def __init__(self, target: str, label: str, *, as_json: bool, video: bool, remote: bool = False) -> None:
        # images finish in a moment: no bar for them, as before
        self.bar = ProgressBar(label) if video and not as_json else None
        self.as_json = as_json and video
        self.target = target
        self.label = label
        self.last_json = 0.0
        # a remote run also says what it waits for: uploading, a worker, the download
        self.remote = remote
        self.stage = ""

    def __call__(self, event: JobEvent) -> None:
        if not isinstance(event, Progress):
            return
        if self.remote and event.stage != self.stage:
            self.stage = event.stage
            self._stage_changed(event.stage)
        if event.stage != "frames":
            return
        if self.bar is not None:
            total = f"/{event.total}" if event.total else ""
            self.bar.update(
                event.done,
                event.total,
                f"{event.done}{total} frames {event.frames_per_second:.1f} fps "
                f"ETA {human_duration(event.eta_seconds)}",
            )
        elif self.as_json and time.monotonic() - self.last_json >= 1.0:
            self.last_json = time.monotonic()
            emit_json(
                "progress",
                target=self.target,
                frames_done=event.done,
                frames_total=event.total,
                fps=round(event.frames_per_second, 2),
                eta_seconds=event.eta_seconds,
            )

    def _stage_changed(self, stage: str) -> None:
        text = REMOTE_STAGES.get(stage)
        if text is None:
            return
        if self.as_json:
            emit_json("stage", target=self.target, stage=stage)
        elif not (stage == "frames" and self.bar is not None):  # the bar itself says so
            print(f"{self.label}: {text}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def report_result(result: JobResult, target: str, *, as_json: bool) -> None:
    if result.kind == JobKind.VIDEO.value:
        if as_json:
            emit_json(
                "result",
                target=target,
                output=result.output_path,
                frames=result.frames,
                frames_with_swaps=result.frames_with_swaps,
                skipped_frames=result.skipped_frames,
                seconds=round(result.seconds, 3),
                encoder=result.encoder,
                provider=result.provider,
            )
        else:
            say(
                f"wrote {result.output_path} ({result.frames} frames, {result.frames_with_swaps} with swaps, "
                f"{result.seconds:.1f} s, {result.encoder} on {result.provider})"
            )
        return
    if as_json:
        emit_json(
            "result",
            target=target,
            output=result.output_path,
            faces_found=result.faces_found,
            faces_swapped=result.faces_swapped,
            seconds=round(result.seconds, 3),
            provider=result.provider,
        )
    else:
        say(
            f"wrote {result.output_path} ({result.faces_swapped} of {result.faces_found} face(s) swapped, "
            f"{result.seconds:.2f} s on {result.provider})"
        )


def failure_line(target: str, error: FaceDeckError) -> str:
    """One line saying why ``target`` failed; it names the target (most messages already do)."""
    message = cli_message(error)
    name = target.rstrip("/").rsplit("/", 1)[-1]
    return message if name and name in message else f"{target}: {message}"


def report_failure(target: str, error: FaceDeckError, *, as_json: bool) -> None:
    """A batch target failed: say so now (the summary repeats it at the end)."""
    if as_json:
        emit_json(
            "error",
            target=target,
            code=error.code,
            message=cli_message(error),
            exit_code=exit_code(error),
        )
    else:
        print(f"  failed: {failure_line(target, error)}", file=sys.stderr, flush=True)


def report_stopped(
    stopped_at: str,
    total: int,
    written: list[str],
    failures: list[tuple[str, FaceDeckError]],
    *,
    as_json: bool,
) -> None:
    """A batch stopped by Ctrl-C or a signal: what was written, what failed, what never ran.

    The target in progress left no output (its job removes the partial file)."""
    not_started = total - len(written) - len(failures) - 1
    if as_json:
        emit_json(
            "summary",
            targets=total,
            written=len(written),
            failed=[{"target": target, "message": cli_message(error)} for target, error in failures],
            stopped_at=stopped_at,
            not_started=not_started,
        )
        return
    print(
        f"stopped during {stopped_at} (no output for it): {len(written)} of {total} targets written, "
        f"{len(failures)} failed, {not_started} not started",
        file=sys.stderr,
        flush=True,
    )


def report_summary(
    total: int, failures: list[tuple[str, FaceDeckError]], status: int, *, as_json: bool
) -> None:
    """The end of a batch: how many were written, and each failure on a line of its own.

    The last line on stderr is the one-line verdict scripts and people read first.
    """
    written = total - len(failures)
    if as_json:
        emit_json(
            "summary",
            targets=total,
            written=written,
            failed=[{"target": target, "message": cli_message(error)} for target, error in failures],
            exit_code=status,
        )
    if not failures:
        if not as_json:
            say(f"all {total} targets written")
        return
    if not as_json:
        lines = [f"{written} of {total} targets written; {len(failures)} failed:"]
        lines += [f"  {failure_line(target, error)}" for target, error in failures]
        print("\n".join(lines), file=sys.stderr, flush=True)
    names = [target for target, _ in failures]
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    print(
        f"facedeck: error: {len(failures)} of {total} targets failed ({shown}); exit status {status}, "
        "that of the first failure",
        file=sys.stderr,
        flush=True,
    )
