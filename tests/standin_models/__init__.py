"""Tests of the stand-in models in tests/support/models, one file per model module."""
