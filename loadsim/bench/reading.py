"""``loa bench reading [--json] [--corpus project|holdout|PATH]``: how many commune
notices the normaliser reads exactly as an announcer would, and how fast.

The corpus lives in the source tree (tests/data/), never in the installed package, so
this benchmark runs from a checkout. Prints one JSON object with ``cases``, ``correct``,
``accuracy``, ``ms_p50`` (per sentence, steady state after one untimed pass) and
``failures``; without ``--json`` a short
summary and each failure.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from loadsim.bench._report import BenchError, add_json_flag


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("reading", help="normaliser accuracy on the reading corpus")
    add_json_flag(parser)
    parser.add_argument(
        "--corpus",
        default="project",
        help="'project' (default), 'holdout', 'holdout2', or a YAML file of the same format",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from audio.normalise import TextNormaliser
    from audio.normalise.corpus import CORPORA, corpus_path, load_corpus, score

    path = corpus_path(args.corpus) if args.corpus in CORPORA else Path(args.corpus)
    try:
        cases = load_corpus(path)
    except OSError as exc:
        raise BenchError(f"cannot read the reading corpus {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise BenchError(f"{path}: {exc}") from None
    if not cases:
        raise BenchError(f"{path} holds no cases")
    normaliser = TextNormaliser()
    for case in cases:  # warm-up pass: g2p-hamster loads its tables lazily, on first use
        normaliser.normalise(case.text)
    result = score(normaliser.normalise, cases).summary()
    result["corpus"] = str(path)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    for failure in result["failures"]:  # type: ignore[attr-defined]
        print(f"[{failure['group']}] {failure['text']}")
        print(f"    expected: {failure['expected']}")
        print(f"    got:      {failure['got']}")
    print(
        f"{result['correct']}/{result['cases']} read correctly "
        f"(accuracy {result['accuracy']}), {result['ms_p50']} ms per sentence (p50)"
    )
    return 0
