"""`python -m bot ...`: the assistant's command line."""

import sys

from bot import warnings_filter

warnings_filter.install()  # before the imports that warn, and for the servers it starts

from bot.cli import main  # noqa: E402

sys.exit(main())
