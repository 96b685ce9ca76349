"""Run a third-party command line (`rasa`, `rasa_sdk`) with the known warnings filtered.

    python -m bot.launch rasa run --model ...   is   python -m rasa run --model ...

Sanic and Rasa put their own `once` filters in front of every other when they are
imported and start, so filters given through PYTHONWARNINGS lose to them in the
servers. This installs the filters of bot/warnings_filter.py, which stay in front, then
runs the module as `python -m` would.
"""

from __future__ import annotations

import runpy
import sys
from typing import List


def main(argv: List[str]) -> None:
    if not argv:
        raise SystemExit("usage: python -m bot.launch MODULE [ARGS...]")
    from bot import warnings_filter

    warnings_filter.install()
    sys.argv = [argv[0], *argv[1:]]
    runpy.run_module(argv[0], run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
