"""``run_job``: the one way every front end runs a swap, image or video."""

from __future__ import annotations

import threading

from ..models.library import ModelLibrary
from .events import EventSink, JobEvent
from .image import run_image
from .inputs import JobInputs
from .result import JobResult
from .spec import JobKind, SwapJob


def _ignore(_event: JobEvent) -> None:
    return None


def run_job(
    library: ModelLibrary,
    job: SwapJob,
    *,
    events: EventSink | None = None,
    cancel: threading.Event | None = None,
) -> JobResult:
    """Validate and run ``job``; FaceDeckError subclasses with one-line messages on failure.

    ``events`` receives typed progress, preview and warning events on the calling thread;
    setting ``cancel`` stops a video within a frame and an image between stages
    (JobCancelled), leaving no output behind.
    """
    job.validate(check_files=False)
    # Every missing model is named at once, before missing inputs and before any work,
    # as the CLI always did: fetching models is the first thing a new user has to do.
    library.require(job.options.required_roles())
    if job.options.swapper_file is not None:  # named now, before inputs are read
        library.require_swapper(job.options.swapper_file)
    job.validate()
    emit = events or _ignore
    stop = cancel or threading.Event()
    with JobInputs() as inputs:
        if job.kind is JobKind.VIDEO:
            # imported here: the video path loads PyAV, which an image swap does without
            from .video import run_video

            return run_video(library, job, inputs, emit, stop)
        return run_image(library, job, inputs, emit, stop)
