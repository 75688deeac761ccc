"""Test helpers: stand-in models, media and bad files, fixtures for manifests and HTTP servers."""
