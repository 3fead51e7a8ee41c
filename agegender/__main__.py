"""`python -m agegender`."""

import sys

from .apps.cli import main

sys.exit(main())
