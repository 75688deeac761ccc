"""The window's own settings (QSettings): geometry, splitters, folders, options, provider, language,
where jobs run (the RemoteChoice: endpoint and storage, never a key; keys live in the
SecretStore).

Stored where the platform keeps application settings (organisation and application
"FaceDeck": the registry on Windows, a plist on macOS, ~/.config/FaceDeck/FaceDeck.conf on
Linux), or in ``window.ini`` in ``FACEDECK_CONFIG_DIR`` when that is set, so tests and
portable setups never touch the user's own. Every getter checks what it read: a value of the
wrong type, out of range or unreadable (a damaged or hand-edited file) is logged and its
default used instead, so the window always opens.

Options are stored as JSON, field by field of core's SwapOptions, OutputSpec and
TrackerOptions, and checked against those dataclasses' types and limits when read; the
fields that take one of a few names (codec, hardware encoder, swapper file) are checked
against those names too.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import logging
import os
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from ...core.faces.options import SwapOptions
from ...core.jobs.spec import HARDWARE_ENCODERS, VIDEO_CODECS, OutputSpec, TrackerOptions
from ...core.limits import limit_problem
from ...core.models.manifest import load_manifest
from ...core.models.store import CONFIG_DIR_ENV
from ..job_document import LiveSetup
from ..remote_choice import RemoteChoice, field_problem
from .i18n import normalize

log = logging.getLogger(__name__)

ORGANIZATION = APPLICATION = "FaceDeck"
INI_NAME = "window.ini"
MAX_RECENT = 10
MAX_CAMERA_SIDE = 8192  # pixels: a stored camera size beyond this is a damaged value
MAX_CAMERA_FPS = 240
OPTION_CLASSES: tuple[type, ...] = (SwapOptions, OutputSpec, TrackerOptions)
# Text fields that take one of a few names: a stored name outside these (a hand edit, a
# model dropped from the manifest) would fail every job, so it is dropped when read.
OPTION_CHOICES: dict[str, Callable[[], tuple[str, ...]]] = {
    "codec": lambda: VIDEO_CODECS,
    "hardware": lambda: HARDWARE_ENCODERS,
    "swapper_file": lambda: tuple(spec.file for spec in load_manifest().for_role("swapper")),
}


def _option_fields() -> dict[str, tuple[Any, Mapping[str, Any]]]:
    """Every option field: name -> (type hint, limits metadata)."""
    fields: dict[str, tuple[Any, Mapping[str, Any]]] = {}
    for cls in OPTION_CLASSES:
        hints = typing.get_type_hints(cls)
        for item in dataclasses.fields(cls):
            if item.name in fields:  # stored by name alone: one would overwrite the other
                raise TypeError(f"{cls.__name__}.{item.name}: another option class has this field")
            fields[item.name] = (hints[item.name], item.metadata)
    return fields


OPTION_FIELDS = _option_fields()


class AppSettings:
    """Typed access to the window's settings; never raises for what it reads."""

    def __init__(self, path: Path | None = None, *, settings: QSettings | None = None) -> None:
        if settings is None:
            if path is None and os.environ.get(CONFIG_DIR_ENV):
                path = Path(os.environ[CONFIG_DIR_ENV]).expanduser() / INI_NAME
            if path is not None:
                settings = QSettings(str(path), QSettings.Format.IniFormat)
            else:
                settings = QSettings(ORGANIZATION, APPLICATION)
        self.qsettings = settings
        if settings.status() != QSettings.Status.NoError:
            log.warning("settings file %s is damaged; unreadable values use their defaults", self.location)

    @property
    def location(self) -> str:
        return self.qsettings.fileName()

    def save(self) -> bool:
        """Write pending changes now (Qt also writes them on exit); False when they could not be."""
        self.qsettings.sync()
        if self.qsettings.status() == QSettings.Status.AccessError:
            log.warning("cannot write the settings file %s", self.location)
            return False
        return True

    # ----- window layout --------------------------------------------------------------------
    def window_geometry(self, name: str = "main") -> QByteArray | None:
        return self._bytes(f"window/{name}/geometry")

    def set_window_geometry(self, data: QByteArray, name: str = "main") -> None:
        self.qsettings.setValue(f"window/{name}/geometry", QByteArray(data))

    def window_state(self, name: str = "main") -> QByteArray | None:
        """QMainWindow.saveState(): docks and toolbars."""
        return self._bytes(f"window/{name}/state")

    def set_window_state(self, data: QByteArray, name: str = "main") -> None:
        self.qsettings.setValue(f"window/{name}/state", QByteArray(data))

    def splitter_state(self, name: str) -> QByteArray | None:
        return self._bytes(f"splitters/{name}")

    def set_splitter_state(self, name: str, data: QByteArray) -> None:
        self.qsettings.setValue(f"splitters/{name}", QByteArray(data))

    # ----- folders and files ----------------------------------------------------------------
    def last_folder(self, kind: str) -> Path | None:
        """The folder last used for ``kind`` ("sources", "target", "output"...) if it still exists."""
        value = self._text(f"folders/{kind}")
        if value is None:
            return None
        folder = Path(value)
        return folder if folder.is_dir() else None

    def set_last_folder(self, kind: str, path: Path | str) -> None:
        """Remember ``path``'s folder (``path`` itself when it is one)."""
        path = Path(path)
        folder = path if path.is_dir() else path.parent
        self.qsettings.setValue(f"folders/{kind}", str(folder))

    def recent_files(self, kind: str = "target") -> list[Path]:
        """Newest first; files that no longer exist are left out."""
        names = self._json(f"recent/{kind}", list)
        if names is None:
            return []
        if not all(isinstance(name, str) for name in names):
            log.warning("ignoring recent %s files in %s: not a list of paths", kind, self.location)
            return []
        return [Path(name) for name in names if Path(name).is_file()]

    def add_recent_file(self, path: Path | str, kind: str = "target") -> None:
        entry = str(Path(path))
        names = [str(item) for item in self.recent_files(kind) if str(item) != entry]
        self.qsettings.setValue(f"recent/{kind}", json.dumps([entry, *names][:MAX_RECENT]))

    # ----- choices ----------------------------------------------------------------------------
    def options(self) -> dict[str, Any]:
        """The stored option fields (enums as their members); bad ones left out."""
        stored = self._json("options", dict)
        if stored is None:
            return {}
        options: dict[str, Any] = {}
        for name, value in stored.items():
            checked = _checked_option(name, value)
            if isinstance(checked, _Bad):
                log.warning("ignoring option %s=%r in %s: %s", name, value, self.location, checked.reason)
            else:
                options[name] = checked
        return options

    def set_options(self, options: Mapping[str, Any]) -> None:
        """Store option fields by name (unknown names are a programming error: KeyError)."""
        plain: dict[str, Any] = {}
        for name, value in options.items():
            if name not in OPTION_FIELDS:
                raise KeyError(f"{name} is not a SwapOptions, OutputSpec or TrackerOptions field")
            plain[name] = value.value if isinstance(value, enum.Enum) else value
        self.qsettings.setValue("options", json.dumps(plain, sort_keys=True))

    def provider(self) -> str | None:
        """The execution provider the user chose (None: the best available)."""
        return self._text("engine/provider")

    def set_provider(self, provider: str | None) -> None:
        self._set_or_remove("engine/provider", provider)

    def preview_mode(self) -> str | None:
        """How the preview shows the two frames ("side" or "toggle"); the panel ignores others."""
        return self._text("ui/preview_mode")

    def set_preview_mode(self, mode: str | None) -> None:
        self._set_or_remove("ui/preview_mode", mode)

    def language(self) -> str | None:
        """The language the user chose (None: follow the system)."""
        value = self._text("ui/language")
        if value is None:
            return None
        language = normalize(value)
        if language is None:
            log.warning("ignoring unknown language %r in %s", value, self.location)
        return language

    def set_language(self, language: str | None) -> None:
        if language is not None and normalize(language) is None:
            raise ValueError(f"no translation for language {language!r}")
        self._set_or_remove("ui/language", normalize(language))

    def live_setup(self) -> dict[str, Any]:
        """The stored LiveSetup fields (camera, size, rate, mirror...); bad ones left out."""
        stored = self._json("live/setup", dict)
        if stored is None:
            return {}
        setup: dict[str, Any] = {}
        for name, value in stored.items():
            problem = _live_problem(name, value)
            if problem:
                log.warning("ignoring live setting %s=%r in %s: %s", name, value, self.location, problem)
            else:
                setup[name] = value
        if ("width" in setup) != ("height" in setup):  # a size is both or neither
            setup.pop("width", None)
            setup.pop("height", None)
        folder = setup.get("record_folder")
        if folder is not None and not Path(folder).is_dir():
            del setup["record_folder"]  # gone since: the default folder serves
        return setup

    def set_live_setup(self, setup: LiveSetup) -> None:
        self.qsettings.setValue("live/setup", json.dumps(dataclasses.asdict(setup), sort_keys=True))

    def remote_choice(self) -> dict[str, Any]:
        """The stored RemoteChoice fields (Run on, endpoint, storage); bad ones left out."""
        stored = self._json("remote/choice", dict)
        if stored is None:
            return {}
        fields: dict[str, Any] = {}
        for name, value in stored.items():
            problem = field_problem(name, value)
            if problem:
                log.warning("ignoring remote setting %s=%r in %s: %s", name, value, self.location, problem)
            else:
                fields[name] = value
        return fields

    def set_remote_choice(self, choice: RemoteChoice) -> None:
        # RemoteChoice holds no key by design: what is written here is safe to keep in clear
        self.qsettings.setValue("remote/choice", json.dumps(choice.to_dict(), sort_keys=True))

    # ----- checked reads ----------------------------------------------------------------------
    def _set_or_remove(self, key: str, value: str | None) -> None:
        if value is None:
            self.qsettings.remove(key)
        else:
            self.qsettings.setValue(key, value)

    def _raw(self, key: str) -> Any:
        return self.qsettings.value(key)

    def _bytes(self, key: str) -> QByteArray | None:
        value = self._raw(key)
        if value is None or isinstance(value, QByteArray):
            return value
        if isinstance(value, bytes):
            return QByteArray(value)
        self._wrong_type(key, value, "binary data")
        return None

    def _text(self, key: str) -> str | None:
        value = self._raw(key)
        if value is None or isinstance(value, str):
            return value or None
        self._wrong_type(key, value, "text")
        return None

    def _json(self, key: str, kind: type) -> Any:
        text = self._text(key)
        if text is None:
            return None
        try:
            value = json.loads(text)
        except ValueError as error:
            log.warning("ignoring %s in %s: not valid JSON (%s)", key, self.location, error)
            return None
        if not isinstance(value, kind):
            self._wrong_type(key, value, kind.__name__)
            return None
        return value

    def _wrong_type(self, key: str, value: Any, expected: str) -> None:
        shown = repr(value)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        log.warning("ignoring %s=%s in %s: expected %s", key, shown, self.location, expected)


@dataclasses.dataclass(frozen=True)
class _Bad:
    reason: str


def _checked_option(name: str, value: Any) -> Any:
    """``value`` as field ``name`` accepts it, or _Bad saying why not."""
    if name not in OPTION_FIELDS:
        return _Bad("not an option FaceDeck knows")
    hint, rules = OPTION_FIELDS[name]
    allowed = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
    for kind in allowed:
        if kind is type(None):
            if value is None:
                return None
        elif isinstance(kind, type) and issubclass(kind, enum.Enum):
            try:
                return kind(value)
            except ValueError:
                continue
        elif _is_instance(value, kind):
            problem = limit_problem(rules, value) or _choice_problem(name, value)
            return _Bad(problem) if problem else (float(value) if kind is float else value)
    return _Bad(f"expected {' or '.join(getattr(kind, '__name__', str(kind)) for kind in allowed)}")


def _live_problem(name: str, value: Any) -> str | None:
    """What is wrong with a stored LiveSetup field, or None."""
    if name in ("source", "record_folder"):
        ok = isinstance(value, str) and value.strip() != "" or (name == "record_folder" and value is None)
        return None if ok else "expected text"
    if name in ("mirror", "repeat"):
        return None if isinstance(value, bool) else "expected true or false"
    top = {"width": MAX_CAMERA_SIDE, "height": MAX_CAMERA_SIDE, "fps": MAX_CAMERA_FPS}.get(name)
    if top is None:
        return "not a live setting FaceDeck knows"
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
        return f"expected a whole number from 1 to {top}"
    return None


def _choice_problem(name: str, value: Any) -> str | None:
    if name not in OPTION_CHOICES:
        return None
    choices = OPTION_CHOICES[name]()
    return None if value in choices else f"not one of {', '.join(choices)}"


def _is_instance(value: Any, kind: Any) -> bool:
    if isinstance(value, bool):  # JSON true is no number
        return kind is bool
    if kind is float:
        return isinstance(value, int | float)
    return isinstance(kind, type) and isinstance(value, kind)
