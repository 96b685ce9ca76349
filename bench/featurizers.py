"""Ablation of the NLU features: sparse only, dense only (all-MiniLM-L6-v2), both.

For each variant of config.yml: training time from scratch, the held-out test sets
(tests/data: intent accuracy, macro-F1, red-flag recall, false alarms), the real-wording
corpus's LOCKED rows (topic accuracy on questions whose topic is an existing faq/* or
out_of_scope/* answer, red-flag recall and false alarms), NLU time per message, and, with
--serve, Rasa server RSS after warm-up and reply latency at 10 paced conversations.

    python -m bench.featurizers [--variants sparse,dense,both] [--serve]
                                [--keep DIR]

Only the locked half of tests/data/real/ is read (bench/corpus.py says which rows).
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml

from bench.common import percentile, rss_mb, running, table
from bench.corpus import load_messages
from bench.quality import escalated, full_intent, tier
from bot.settings import PROJECT_ROOT
from bot.tiers import rank

DENSE = "bot.nlu.minilm.MiniLMFeaturizer"
SPARSE = ("RegexFeaturizer", "LexicalSyntacticFeaturizer", "CountVectorsFeaturizer")
# the sparse featurizers of the pipeline before dense features (used if config.yml lost them)
STOCK_SPARSE: List[Dict[str, Any]] = [
    {"name": "RegexFeaturizer"},
    {"name": "LexicalSyntacticFeaturizer"},
    {"name": "CountVectorsFeaturizer"},
    {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4},
]


def variant_config(kind: str, base: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """config.yml with only sparse, only dense or both kinds of featurizer."""
    config = copy.deepcopy(base or yaml.safe_load((PROJECT_ROOT / "config.yml").read_text()))
    pipeline = config["pipeline"]
    sparse = [c for c in pipeline if c["name"] in SPARSE] or copy.deepcopy(STOCK_SPARSE)
    dense = [c for c in pipeline if c["name"] == DENSE] or [{"name": DENSE}]
    rest = [c for c in pipeline if c["name"] not in SPARSE and c["name"] != DENSE]
    chosen = {"sparse": sparse, "dense": dense, "both": sparse + dense}[kind]
    tokenizer = next(i for i, c in enumerate(rest) if c["name"].endswith("Tokenizer"))
    config["pipeline"] = rest[: tokenizer + 1] + chosen + rest[tokenizer + 1 :]
    return config


def train(config: Dict[str, Any], out: Path) -> float:
    """Train from scratch (no cache) into `out`; returns seconds."""
    out.mkdir(parents=True, exist_ok=True)
    config_path = out / "config.yml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    env = dict(
        os.environ,
        RASA_MAX_CACHE_SIZE="0",
        RASA_CACHE_DIRECTORY=str(out / "cache"),
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="2",
    )
    start = time.monotonic()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "rasa",
            "train",
            "--config",
            str(config_path),
            "--out",
            str(out),
            "--fixed-model-name",
            "model",
            "--force",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.monotonic() - start


def corpus_rows() -> Dict[str, List[Dict[str, str]]]:
    """The locked rows: questions with an existing answer, red-flag reports, look-alikes."""
    rows = [vars(m) for m in load_messages("locked")]
    return {
        "questions": [
            r
            for r in rows
            if r["flag"] == "none" and r["topic"].split("/")[0] in ("faq", "out_of_scope")
        ],
        "reports": [r for r in rows if r["flag"] == "report"],
        "lookalikes": [r for r in rows if r["flag"] == "lookalike"],
    }


def measure(model: Path) -> Dict[str, Any]:
    from rasa.core.agent import load_agent
    from rasa.utils.log_utils import configure_structlog

    from bench import quality

    configure_structlog(logging.WARNING)
    result: Dict[str, Any] = dict(quality.evaluate(model))
    agent = asyncio.run(load_agent(model_path=str(model)))
    real = corpus_rows()

    async def parse_all(texts: List[str]) -> List[Dict]:
        return [await agent.parse_message(t) for t in texts]

    if real["questions"]:
        parsed = asyncio.run(parse_all([r["text"] for r in real["questions"]]))
        right = sum(
            1
            for r, p in zip(real["questions"], parsed, strict=True)
            if full_intent(p) == r["topic"]
        )
        n = len(real["questions"])
        result["real: topic accuracy"] = f"{right}/{n} ({right / n:.1%})"
    if real["reports"]:
        parsed = asyncio.run(parse_all([r["text"] for r in real["reports"]]))
        caught = sum(
            1
            for r, p in zip(real["reports"], parsed, strict=True)
            if escalated(p) and rank(tier(p)) <= rank(r["tier"] or "urgent")
        )
        n = len(real["reports"])
        result["real: red-flag recall"] = f"{caught}/{n} ({caught / n:.1%})"
    if real["lookalikes"]:
        parsed = asyncio.run(parse_all([r["text"] for r in real["lookalikes"]]))
        alarms = sum(1 for p in parsed if escalated(p))
        n = len(real["lookalikes"])
        result["real: false alarms"] = f"{alarms}/{n} ({alarms / n:.1%})"

    # NLU time per message, in process, on the held-out texts (after one warm-up pass)
    from rasa.shared.nlu.training_data.loading import load_data

    texts = [m.get("text") for m in load_data(str(quality.NLU_TEST)).intent_examples]

    async def timed() -> List[float]:
        for t in texts[:20]:
            await agent.parse_message(t)
        times = []
        for t in texts:
            start = time.perf_counter()
            await agent.parse_message(t)
            times.append((time.perf_counter() - start) * 1000)
        return times

    times = asyncio.run(timed())
    result["NLU ms/message p50 / p95"] = (
        f"{percentile(times, 50):.1f} / {percentile(times, 95):.1f}"
    )
    return result


def serve(model: Path, conversations: int) -> Dict[str, Any]:
    from bench import latency

    with running(model) as servers:
        url = f"http://127.0.0.1:{servers.rasa_port}/webhooks/rest/webhook"
        latency.first_answer_seconds(url, time.monotonic())
        asyncio.run(latency.load(url, 2, 1))  # warm-up
        rss = round(rss_mb(servers.processes["rasa"].pid))
        row = asyncio.run(latency.load(url, 10, conversations, "paced"))
    return {
        "Rasa server RSS MB (warm)": rss,
        "p50 / p95 ms, 10 paced": f"{row['p50 ms']} / {row['p95 ms']} ({row['messages']} msgs, "
        f"{row['errors']} errors)",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default="sparse,dense,both")
    parser.add_argument("--serve", action="store_true", help="also RSS and 10 paced latency")
    parser.add_argument("--conversations", type=int, default=2, help="per patient, with --serve")
    parser.add_argument("--keep", type=Path, help="keep the trained models in this folder")
    args = parser.parse_args()
    if any(k in ("dense", "both") for k in args.variants.split(",")):
        # the encoder's files (hash-checked; a no-op when already there)
        subprocess.run(
            [sys.executable, str(PROJECT_ROOT / "scripts" / "fetch_minilm.py")], check=True
        )
    results: Dict[str, Dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-feat-") as tmp:
        root = args.keep or Path(tmp)
        for kind in args.variants.split(","):
            out = root / kind
            seconds = train(variant_config(kind), out)
            model = out / "model.tar.gz"
            results[kind] = {
                "training from scratch s": round(seconds),
                **measure(model),
            }
            if args.serve:
                results[kind].update(serve(model, args.conversations))
            print(f"{kind}: {results[kind]}", flush=True)
    keys: List[str] = []
    for row in results.values():
        keys += [k for k in row if k not in keys]
    names = list(results)
    print(table(["measure", *names], [[k, *(results[n].get(k, "-") for n in names)] for k in keys]))


if __name__ == "__main__":
    main()
