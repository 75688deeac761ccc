"""The PyInstaller bundle's entry script (build.spec): the installed ``facedeck`` command.

A committed file, so the spec writes nothing into the source tree; it imports the installed
package, never the checkout.
"""

import sys

from facedeck.desktop.cli import main

if __name__ == "__main__":
    sys.exit(main())
