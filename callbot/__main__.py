"""`python -m callbot …`: the same command line as the `callbot` script."""

import sys

from callbot.cli import main

sys.exit(main())
