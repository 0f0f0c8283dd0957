"""``python -m ecorules``: the same command line as the ``ecorules`` script."""

import sys

from ._cli import main

sys.exit(main())
