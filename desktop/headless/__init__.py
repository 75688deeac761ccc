"""Headless commands: the same core engine with no Qt import anywhere on the path."""
