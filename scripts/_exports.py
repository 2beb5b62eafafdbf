"""Helpers the example generators share: Cloud Logging's timestamps, gcloud's JSON, the command line.

Stdlib only, like the generators: they import nothing from sitrep.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

NS_PER_S = 1_000_000_000
EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"


def rfc3339(ns: int, digits: int = 9) -> str:
    """RFC 3339 UTC with `digits` fractional digits, as Cloud Logging prints timestamps."""
    seconds, frac = divmod(ns, NS_PER_S)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return (f"{stamp}.{frac:09d}"[: len(stamp) + 1 + digits] if digits else stamp) + "Z"


def parse_ns(stamp: str) -> int:
    """Nanoseconds since the epoch of an RFC 3339 UTC timestamp with 0-9 fractional digits."""
    whole, _, frac = stamp.rstrip("Z").partition(".")
    seconds = int(datetime.fromisoformat(whole).replace(tzinfo=UTC).timestamp())
    return seconds * NS_PER_S + int((frac or "0").ljust(9, "0"))


def ns_of(moment: datetime) -> int:
    return int(moment.timestamp()) * NS_PER_S


def dump(obj: Any) -> str:
    """JSON as gcloud prints it: 2-space indent, sorted keys."""
    return json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_examples(doc: str | None, names: Iterable[str], write: Callable[[str, Path], str],
                   argv: list[str] | None = None) -> int:
    """The generators' command line: `[--out DIR] [NAME ...]`, every example by default."""
    known = list(names)
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=EXAMPLES_DIR)
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"examples to write (default: all of {', '.join(known)})")
    args = parser.parse_args(argv)
    unknown = set(args.names) - set(known)
    if unknown:
        parser.error(f"unknown example(s): {', '.join(sorted(unknown))}")
    for name in args.names or known:
        print(write(name, args.out))
    return 0
