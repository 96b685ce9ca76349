"""Training time from scratch (no cache), ours and stock.

python -m bench.training [--models ours,stock]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

from bench.common import STOCK_CONFIG, table
from bot.settings import PROJECT_ROOT


def train_seconds(config: str) -> float:
    with tempfile.TemporaryDirectory(prefix="bench-train-") as out:
        env = dict(
            os.environ,
            RASA_MAX_CACHE_SIZE="0",
            RASA_CACHE_DIRECTORY=out + "/cache",
            RASA_TELEMETRY_ENABLED="false",
            TF_CPP_MIN_LOG_LEVEL="2",
        )
        start = time.monotonic()
        subprocess.run(
            [sys.executable, "-m", "rasa", "train", "--config", config, "--out", out, "--force"],
            cwd=PROJECT_ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="ours,stock")
    args = parser.parse_args()
    configs = {"ours": "config.yml", "stock": str(STOCK_CONFIG)}
    rows = [[name, round(train_seconds(configs[name]))] for name in args.models.split(",")]
    print(table(["model", "training from scratch s"], rows))


if __name__ == "__main__":
    main()
