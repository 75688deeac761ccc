"""``python -m facedeck.desktop`` is the same as the ``facedeck`` command."""

import sys

from .cli import main

sys.exit(main())
