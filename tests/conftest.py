"""Shared pytest setup.

- tests/ is a package: helpers load as ``from tests.support.model_factory import ...``.
- Trusted hashes and consent go to a throw-away settings folder for the whole run (never
  the developer's own), shared with the ``facedeck`` processes the CLI tests start.
"""

import atexit
import os
import shutil
import tempfile

_SETTINGS_DIR = tempfile.mkdtemp(prefix="facedeck-test-settings-")
os.environ["FACEDECK_CONFIG_DIR"] = _SETTINGS_DIR
os.environ.pop("FACEDECK_MODELS_DIR", None)
atexit.register(shutil.rmtree, _SETTINGS_DIR, ignore_errors=True)
