"""The FaceDeck application: entry point, ``--headless`` commands and the Qt GUI.

Only the GUI modules import PySide6; the entry point and headless commands never do.
"""
