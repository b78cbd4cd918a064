"""`python -m lstmkit` runs the command-line interface."""

import sys

from lstmkit.cli.main import main

sys.exit(main())
