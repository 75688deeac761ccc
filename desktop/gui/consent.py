"""The window's questions about responsible use and licences, answered once and remembered.

The rule and the record are core's (``core.models.consent``): the CLI, the window and the
worker read and write the same ``consent.json`` in the config folder, so a user who
confirmed the rule on the command line is not asked again here, and the reverse.

Both questions are QMessageBox subclasses whose answer is read with ``agreed()`` after
``exec()``; callers that must not block (tests) pass their own ``ask`` function.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from ...core.models.consent import RESPONSIBLE_USE_TEXT, load_consent, record_consent, terms_needed
from ...core.models.manifest import License, ModelSpec
from ...core.models.store import ModelStore

# The rule as written in core, marked for translation here; a test keeps the two identical,
# since the record stores core's text and the translation is looked up by it.
RULE = QT_TRANSLATE_NOOP(
    "ConsentBox",
    "I will only swap faces of people who have given their consent, and I will not use the "
    "results to deceive, harass or defame anyone.",
)

Ask = Callable[[QWidget | None], bool]
AskTerms = Callable[[QWidget | None, Sequence[License]], bool]


class ConsentBox(QMessageBox):
    """The responsible-use rule, with the licences to accept when there are any."""

    def __init__(self, parent: QWidget | None, licences: Sequence[License] = ()) -> None:
        super().__init__(parent)
        self.setIcon(QMessageBox.Icon.Information)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setWindowTitle(self.tr("Responsible use") if not licences else self.tr("Licence terms"))
        rule = QCoreApplication.translate("ConsentBox", RESPONSIBLE_USE_TEXT)
        synthetic = self.tr(
            "Every image and video FaceDeck writes is marked as synthetic (AI-generated) media "
            "in its metadata."
        )
        parts = []
        if licences:
            parts.append(self.tr("Before the first download, please read the licences of these models:"))
            parts.append("<ul>" + "".join(_licence_item(licence) for licence in licences) + "</ul>")
            parts.append(self.tr("By downloading them you accept these terms, and confirm:"))
        else:
            parts.append(
                self.tr("FaceDeck swaps faces in photos and videos. Before you start, please confirm:")
            )
        parts.append(f"<p><b>{html.escape(rule)}</b></p><p>{html.escape(synthetic)}</p>")
        self.setText("".join(parts))
        self.agree_button = self.addButton(self.tr("I agree"), QMessageBox.ButtonRole.AcceptRole)
        self.addButton(self.tr("Decline"), QMessageBox.ButtonRole.RejectRole)
        self.setDefaultButton(self.agree_button)

    def agreed(self) -> bool:
        return self.clickedButton() is self.agree_button


def _licence_item(licence: License) -> str:
    url = html.escape(licence.url, quote=True)
    return (
        f"<li><b>{html.escape(licence.name)}</b>: {html.escape(licence.summary)}"
        f' <a href="{url}">{html.escape(licence.url)}</a></li>'
    )


def ask_responsible_use(parent: QWidget | None) -> bool:
    box = ConsentBox(parent)
    box.exec()
    return box.agreed()


def ask_terms(parent: QWidget | None, licences: Sequence[License]) -> bool:
    box = ConsentBox(parent, licences)
    box.exec()
    return box.agreed()


def consent_given(store: ModelStore) -> bool:
    return load_consent(store.settings_dir).responsible_use_confirmed


def ensure_consent(parent: QWidget | None, store: ModelStore, *, ask: Ask | None = None) -> bool:
    """First run: ask for the responsible-use confirmation unless it was given before (here or
    in the CLI); remember a yes. Returns whether the user has accepted."""
    if consent_given(store):
        return True
    if not (ask or ask_responsible_use)(parent):
        return False
    record_consent(store.settings_dir, [])
    return True


def ensure_terms(
    parent: QWidget | None, store: ModelStore, specs: Sequence[ModelSpec], *, ask: AskTerms | None = None
) -> bool:
    """Before a download: the licences of ``specs`` not yet accepted, with the rule; a yes is
    remembered. Returns whether the download may go ahead."""
    needed = terms_needed(specs, load_consent(store.settings_dir))
    if not needed:
        return True
    licences = [store.manifest.licenses[license_id] for license_id in needed]
    if not (ask or ask_terms)(parent, licences):
        return False
    record_consent(store.settings_dir, needed)
    return True
