"""`python -m bot ...`: the assistant's command line."""

import sys

from bot.cli import main

sys.exit(main())
