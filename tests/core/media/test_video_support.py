"""The video part of doctor's report: versions, encoders probed for real, never raising."""

from __future__ import annotations

import json
import sys

import av

from facedeck.core.media.encoding import VIDEO_ENCODERS
from facedeck.core.media.video_support import describe_video_support


def test_reports_each_codec_facedeck_offers_with_what_this_build_has():
    report = describe_video_support()
    assert report.pyav == av.__version__ and report.problems == ()
    names = [encoder.name for encoder in report.encoders]
    for codec, (software, nvenc) in VIDEO_ENCODERS.items():
        if codec == "ffv1":
            continue
        assert software in names
        # a hardware encoder is listed exactly when this FFmpeg build carries it
        assert (nvenc in names) is (nvenc is not None and nvenc in av.codecs_available)
    software_usable = {e.name: e.usable for e in report.encoders if not e.hardware}
    assert software_usable == {
        e.name: e.name in av.codecs_available for e in report.encoders if not e.hardware
    }
    assert json.loads(json.dumps(report.to_dict())) == report.to_dict()


def test_a_pyav_that_does_not_import_is_a_problem_not_a_crash(monkeypatch):
    monkeypatch.setitem(sys.modules, "av", None)  # "import av" now raises ImportError
    report = describe_video_support()
    assert report.pyav is None and report.encoders == ()
    assert len(report.problems) == 1 and report.problems[0].startswith("PyAV (video) does not import")
