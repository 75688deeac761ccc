"""One image job: read the target, build the session, swap, write (or encode) the result."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from ..errors import JobCancelled, NoFaceError
from ..media.image_reader import merge_result
from ..media.image_writer import encode_image, write_image
from ..media.output import check_output_path
from ..models.library import ModelLibrary
from .assignment import build_session
from .events import EventSink, Progress
from .inputs import JobInputs
from .result import JobResult
from .spec import JobKind, SwapJob

log = logging.getLogger(__name__)

DEFAULT_IMAGE_QUALITY = 95
_STAGES = ("read", "identify", "swap", "write")


def run_image(
    library: ModelLibrary, job: SwapJob, inputs: JobInputs, emit: EventSink, cancel: threading.Event
) -> JobResult:
    """Run an image job; cancel is honoured between stages."""
    started = time.perf_counter()
    timings: dict[str, float] = {}
    local_inputs = job.local_paths()
    output = job.output.path
    if output is not None:
        check_output_path(output, local_inputs)

    def stage(index: int) -> float:
        if cancel.is_set():
            raise JobCancelled(f"cancelled before the {_STAGES[index]} step; no output was written")
        emit(Progress(_STAGES[index], index, len(_STAGES)))
        return time.perf_counter()

    mark = stage(0)
    target = inputs.image(job.target)
    timings["read"] = time.perf_counter() - mark
    mark = stage(1)
    session = build_session(library, job.faces, job.options, inputs)
    timings["identify"] = time.perf_counter() - mark
    mark = stage(2)
    result = session.process(target.bgr.copy())
    timings.update(result.timings)
    label = job.target.label
    if result.faces_found == 0:
        raise NoFaceError(f"no face found in {label}", path=label)
    if result.faces_swapped == 0:
        raise NoFaceError(
            f"none of the {result.faces_found} face(s) in {label} matches the reference "
            f"(distance threshold {job.options.distance_threshold})",
            path=label,
        )
    mark = stage(3)
    pixels = merge_result(target, result.frame)
    quality = DEFAULT_IMAGE_QUALITY if job.output.quality is None else job.output.quality
    fmt = job.output.resolved_format(JobKind.IMAGE)
    data = None
    if output is not None:
        output = str(
            write_image(output, pixels, quality=quality, inputs=local_inputs, icc_profile=target.icc_profile)
        )
    else:
        data = encode_image(pixels, "." + fmt, quality=quality, icc_profile=target.icc_profile)
    timings["write"] = time.perf_counter() - mark
    emit(Progress("write", len(_STAGES), len(_STAGES)))
    seconds = time.perf_counter() - started
    log.info(
        "swapped %d of %d face(s) in %s in %.2f s", result.faces_swapped, result.faces_found, label, seconds
    )
    return JobResult(
        kind=JobKind.IMAGE.value,
        output_format=Path(output).suffix.lstrip(".").lower() if output else fmt,
        faces_found=result.faces_found,
        faces_swapped=result.faces_swapped,
        seconds=seconds,
        provider=library.provider.name,
        output_path=output,
        output_data=data,
        timings=timings,
    )
