"""The window's remembered state (AppSettings, settings.py): restored at start, saved on close.

Options (swap, output and tracker fields) go into the JobDocument before the panels are
built, so each widget starts from the document as always; geometry, splitter, provider,
recent targets and folders go to the widgets that show them; where jobs run (Run on, the
endpoint and storage, never a key) to the window's RunOnController. The trim is not remembered:
its times belong to one video (the document drops them with their target), and a trim
kept for the next session's video would cut it, or fail it, unasked. Reading never fails
(AppSettings drops bad values with a warning), so a damaged settings file costs the
remembered values, never the start.
"""

from __future__ import annotations

import dataclasses
import logging

from ...core.faces.options import SwapOptions
from ...core.jobs.spec import OutputSpec, TrackerOptions
from ..job_document import JobDocument
from ..remote_choice import RemoteChoice
from .main_window import MainWindow
from .settings import OPTION_FIELDS, AppSettings

log = logging.getLogger(__name__)

SWAP_FIELDS = frozenset(field.name for field in dataclasses.fields(SwapOptions))
# the path is the document's (default next to the target), never a remembered one
OUTPUT_FIELDS = frozenset(field.name for field in dataclasses.fields(OutputSpec)) - {"path"}
TRACKER_FIELDS = frozenset(field.name for field in dataclasses.fields(TrackerOptions))
SPLITTER = "main"


def document_from(settings: AppSettings) -> JobDocument:
    document = JobDocument()
    stored = settings.options()
    swap = {name: value for name, value in stored.items() if name in SWAP_FIELDS}
    output = {name: value for name, value in stored.items() if name in OUTPUT_FIELDS}
    tracker = {name: value for name, value in stored.items() if name in TRACKER_FIELDS}
    try:
        document.set_options(**swap)
        document.set_output_options(**output)
        document.set_tracker(**tracker)
    except (TypeError, ValueError) as error:  # fields valid one by one, not together
        log.warning("ignoring stored options: %s", error)
        document = JobDocument()
    document.set_live(**settings.live_setup())  # each field checked by AppSettings
    return document


def restore(window: MainWindow, settings: AppSettings) -> None:
    geometry = settings.window_geometry()
    if geometry is not None:
        window.restoreGeometry(geometry)
    splitter = settings.splitter_state(SPLITTER)
    if splitter is not None:
        window.splitter.restoreState(splitter)
    state = settings.window_state()
    if state is not None and not window.restoreState(state):  # the log dock, open or not
        log.warning("ignoring the stored window layout in %s: not one this window wrote", settings.location)
    mode = settings.preview_mode()
    row = window.preview_panel.mode.findData(mode) if mode else -1
    if row >= 0:
        window.preview_panel.mode.setCurrentIndex(row)
    window.target_panel.set_recent_files([str(path) for path in settings.recent_files("target")])
    for panel, kind in ((window.sources_panel, "sources"), (window.target_panel, "target")):
        folder = settings.last_folder(kind)
        if folder is not None:
            panel.last_folder = str(folder)
    provider = settings.provider()
    row = window.options_panel.provider.findData(provider) if provider else -1
    if row >= 0:
        window.options_panel.provider.setCurrentIndex(row)
    window.run_on.set_choice(RemoteChoice.from_fields(settings.remote_choice()))  # each field checked


def save(window: MainWindow, settings: AppSettings) -> None:
    settings.set_window_geometry(window.saveGeometry())
    settings.set_splitter_state(SPLITTER, window.splitter.saveState())
    settings.set_window_state(window.saveState())
    settings.set_preview_mode(window.preview_panel.mode.currentData())
    document = window.document
    options = {name: getattr(document.options, name) for name in SWAP_FIELDS}
    options.update({name: getattr(document.output, name) for name in OUTPUT_FIELDS})
    options.update({name: getattr(document.tracker, name) for name in TRACKER_FIELDS})
    settings.set_options({name: value for name, value in options.items() if name in OPTION_FIELDS})
    settings.set_live_setup(document.live)
    for path in reversed(window.target_panel.recent_files()):
        settings.add_recent_file(path, "target")
    for panel, kind in ((window.sources_panel, "sources"), (window.target_panel, "target")):
        if panel.last_folder:
            settings.set_last_folder(kind, panel.last_folder)
    provider = window.options_panel.provider.currentData()
    settings.set_provider(None if provider == "auto" else provider)
    settings.set_remote_choice(window.run_on.choice)
    settings.save()
