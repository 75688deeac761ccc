"""Model files: the manifest, the store that verifies them, downloads and the shared library."""
