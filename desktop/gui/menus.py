"""The main window's menus and keyboard shortcuts.

Every action drives a control the panels already have (a button's click, a combo's index),
so a menu or a key does exactly what the control does, and each action is enabled exactly
when its control is: an event filter follows the controls' enabled and shown states.

The preview's keys (previous/next frame, show original) belong to the preview panel alone
(Qt.WidgetWithChildrenShortcut): arrows and letters typed into the spin boxes, line edits
and lists elsewhere in the window stay theirs. The panel takes focus on a click, so a click
on the picture is enough to use them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt, Signal, SignalInstance, Slot
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar, QMessageBox, QWidget

from ...core.version import SOFTWARE_NAME, software_version
from .live_panel import LivePanel
from .preview_panel import PreviewPanel
from .run_panel import RunPanel
from .sources_panel import SourcesPanel
from .target_panel import TargetPanel

# events after which an action's enabled state may differ from its control's
_STATE_EVENTS = (QEvent.Type.EnabledChange, QEvent.Type.ShowToParent, QEvent.Type.HideToParent)


@dataclass(frozen=True)
class MenuTargets:
    """What the menus act on: the panels, and the log dock's show/hide action."""

    target: TargetPanel
    sources: SourcesPanel
    run: RunPanel
    preview: PreviewPanel
    log_toggle: QAction
    live: LivePanel | None = None  # shown instead of the run panel while the target is a camera


def _keys(*keys: QKeySequence | QKeySequence.StandardKey | str) -> list[QKeySequence]:
    """Key sequences, standard ones expanded; a standard key a platform leaves unbound is skipped."""
    sequences: list[QKeySequence] = []
    for key in keys:
        if isinstance(key, QKeySequence.StandardKey):
            sequences.extend(QKeySequence.keyBindings(key))
        else:
            sequences.append(QKeySequence(key))
    unique: list[QKeySequence] = []
    for sequence in sequences:
        if not sequence.isEmpty() and sequence not in unique:
            unique.append(sequence)
    return unique


class WindowMenus(QObject):
    """Builds File, View and Help on ``menu_bar``; asks the window for what is its own by signals."""

    modelsRequested = Signal()
    quitRequested = Signal()

    def __init__(self, menu_bar: QMenuBar, targets: MenuTargets, parent: QWidget) -> None:
        super().__init__(parent)
        self.targets = targets
        self.dialog_parent = parent
        self.file_menu = menu_bar.addMenu(self.tr("&File"))
        self.view_menu = menu_bar.addMenu(self.tr("&View"))
        self.help_menu = menu_bar.addMenu(self.tr("&Help"))
        self._file_actions()
        self._view_actions()
        self.about = self._action(self.help_menu, self.tr("&About FaceDeck"), self._show_about)
        self.about.setMenuRole(QAction.MenuRole.AboutRole)
        run, preview = targets.run, targets.preview
        watched_controls = [run.start, run.cancel, run.browse, preview.show_original, preview.video_bar]
        if targets.live is not None:
            watched_controls += [targets.live, targets.live.start]
        for watched in watched_controls:
            watched.installEventFilter(self)
        preview.mode.currentIndexChanged.connect(self._mode_changed)
        preview.show_original.toggled.connect(self.show_original.setChecked)
        self._mode_changed()
        self.update_states()

    # ----- building -----------------------------------------------------------------------------
    def _action(
        self,
        menu: QMenu,
        text: str,
        slot: Callable[..., object] | SignalInstance,
        keys: list[QKeySequence] | None = None,
    ) -> QAction:
        action = QAction(text, self)
        if keys:
            action.setShortcuts(keys)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _file_actions(self) -> None:
        menu, targets = self.file_menu, self.targets
        self.open_target = self._action(
            menu,
            self.tr("&Open target\u2026"),
            targets.target.choose_file,
            _keys(QKeySequence.StandardKey.Open),
        )
        self.add_sources = self._action(
            menu, self.tr("&Add source photos\u2026"), targets.sources.choose_files, _keys("Ctrl+Shift+O")
        )
        # SaveAs is unbound on Windows: Ctrl+Shift+S is named as well
        self.save_output = self._action(
            menu,
            self.tr("&Save output as\u2026"),
            targets.run.browse.click,
            _keys(QKeySequence.StandardKey.SaveAs, "Ctrl+Shift+S"),
        )
        menu.addSeparator()
        # in camera mode Start starts or stops live mode, as the live panel's button does
        self.start = self._action(menu, self.tr("S&tart"), self._start, _keys("Ctrl+Return", "Ctrl+Enter"))
        # Esc cancels only while a job runs: disabled, the action leaves Esc to the widgets
        self.cancel = self._action(menu, self.tr("&Cancel job"), targets.run.cancel.click, _keys("Esc"))
        menu.addSeparator()
        self.models = self._action(menu, self.tr("&Models\u2026"), self.modelsRequested)
        menu.addSeparator()
        # Quit is unbound on Windows: Ctrl+Q everywhere
        self.quit = self._action(
            menu, self.tr("&Quit"), self.quitRequested, _keys(QKeySequence.StandardKey.Quit, "Ctrl+Q")
        )
        self.quit.setMenuRole(QAction.MenuRole.QuitRole)

    def _view_actions(self) -> None:
        menu, preview = self.view_menu, self.targets.preview
        modes = QActionGroup(self)
        self.side_by_side = self._action(menu, self.tr("&Side by side"), self._choose_side_by_side)
        self.before_after = self._action(menu, self.tr("&Before / after"), self._choose_before_after)
        for action in (self.side_by_side, self.before_after):
            action.setCheckable(True)
            modes.addAction(action)
        self.show_original = self._action(
            menu, self.tr("Show &original"), self._show_original_toggled, _keys("B")
        )
        self.show_original.setCheckable(True)
        menu.addSeparator()
        self.previous_frame = self._action(
            menu, self.tr("&Previous frame"), preview.back.click, [QKeySequence(Qt.Key.Key_Left)]
        )
        self.next_frame = self._action(
            menu, self.tr("&Next frame"), preview.forward.click, [QKeySequence(Qt.Key.Key_Right)]
        )
        for action in (self.show_original, self.previous_frame, self.next_frame):
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            preview.addAction(action)  # the context is the panel's: focus inside it
        preview.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        menu.addSeparator()
        self.log = self.targets.log_toggle
        self.log.setText(self.tr("&Log"))
        self.log.setShortcut(QKeySequence("Ctrl+L"))
        menu.addAction(self.log)

    # ----- following the controls ----------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() in _STATE_EVENTS:
            self.update_states()
        return False

    def _live_shown(self) -> bool:
        live = self.targets.live
        return live is not None and not live.isHidden()

    def update_states(self) -> None:
        run, preview, live = self.targets.run, self.targets.preview, self.targets.live
        if live is not None and self._live_shown():
            self.start.setEnabled(live.start.isEnabled())
            self.save_output.setEnabled(False)  # a camera has no output file to name
        else:
            self.start.setEnabled(run.start.isEnabled())
            self.save_output.setEnabled(run.browse.isEnabled())
        self.cancel.setEnabled(run.cancel.isEnabled())
        self.show_original.setEnabled(preview.show_original.isEnabled())
        video = not preview.video_bar.isHidden()  # shown in the panel, whether or not the window is
        self.previous_frame.setEnabled(video)
        self.next_frame.setEnabled(video)

    @Slot()
    def _mode_changed(self) -> None:
        toggle = self.targets.preview.mode.currentData() == "toggle"
        (self.before_after if toggle else self.side_by_side).setChecked(True)

    # ----- slots ---------------------------------------------------------------------------------
    @Slot()
    def _start(self) -> None:
        live = self.targets.live
        (live.start if live is not None and self._live_shown() else self.targets.run.start).click()

    def _choose_mode(self, mode: str) -> None:
        combo = self.targets.preview.mode
        combo.setCurrentIndex(combo.findData(mode))

    @Slot()
    def _choose_side_by_side(self) -> None:
        self._choose_mode("side")

    @Slot()
    def _choose_before_after(self) -> None:
        self._choose_mode("toggle")

    @Slot(bool)
    def _show_original_toggled(self, checked: bool) -> None:
        self.targets.preview.show_original.setChecked(checked)

    @Slot()
    def _show_about(self) -> None:
        QMessageBox.about(self.dialog_parent, self.tr("About FaceDeck"), self.about_text())

    def about_text(self) -> str:
        return "".join(
            [
                f"<h3>{SOFTWARE_NAME} {software_version()}</h3>",
                "<p>" + self.tr("Swaps faces in photos and videos, on this computer.") + "</p>",
                "<p>"
                + self.tr(
                    "Use it only with the faces of people who have given their consent. Every image "
                    "and video FaceDeck writes is marked as synthetic (AI-generated) media."
                )
                + "</p>",
            ]
        )
