"""`python -m agegender`."""

import sys

from .cli import main

sys.exit(main())
