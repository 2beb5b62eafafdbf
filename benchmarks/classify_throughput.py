"""Classification throughput: the RE2-set classifier against a naive per-signature regex loop.

Both classify the same deterministic, generated Cloud Run log messages in the same run:

* ours: `functions.analysis.classify.classifier.Classifier` (one RE2 set scan -> first candidate's regex ->
  entities; verdicts memoised per distinct message);
* naive: the same verdicts the straightforward way: for each message, every signature's compiled
  Python regex in merged order (the classifier's exact fallback when RE2 cannot build its set),
  then the cue stage, nothing memoised.

Two workloads: `distinct` (every message unique: ids, IPs, timings vary; the cache
cannot help, this measures the set) and `spike` (an error spike: 200 distinct lines
repeated, as Cloud Logging returns during an incident). The verdicts of both must agree (100 %).

Usage (from the repository root):
    python benchmarks/classify_throughput.py              # 40,000 messages per workload
    python benchmarks/classify_throughput.py --n 5000     # quicker
    python benchmarks/classify_throughput.py --json
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._baselines import straightforward_classifier
from functions.analysis.classify.classifier import Classifier
from functions.analysis.classify.signature_files import load_signatures
from functions.analysis.classify.signatures import Signature

SEED = 20250916

# Failure lines as Cloud Run / Python / Node / Go services print them; {n}, {ip}, {id} vary.
FAILURES = [
    "ModuleNotFoundError: No module named 'auth_service_{n}'",
    "Container called exit({n}).",
    "The request failed because the instance could not start successfully.",
    "Memory limit of 512 MiB exceeded with {n} MiB used. Consider increasing the memory limit.",
    'Default STARTUP TCP probe failed {n} time consecutively for container "worker" on port 8080.',
    "Database connection timeout after {n}s",
    'psycopg2.OperationalError: connection to server at "{ip}", port 5432 failed: timeout expired',
    "sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 10 reached, connection timed out, timeout {n}.00",
    "Error: connect ECONNREFUSED {ip}:6379",
    "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='svc-{n}.internal', port=443): Max retries "
    "exceeded with url: /v1/{id} (Caused by NameResolutionError(\"Failed to resolve 'svc-{n}.internal'\"))",
    "jwt.exceptions.ExpiredSignatureError: Signature has expired (request {id})",
    "google.api_core.exceptions.PermissionDenied: 403 Permission 'secretmanager.versions.access' denied",
    "websockets.exceptions.ConnectionClosedError: received 1011 (internal error) session {id}",
    "[2025-09-16 01:42:{n} +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:{n})",
    "The request has been terminated because it has reached the maximum request timeout.",
    "SERVICE_ID contained whitespace (request {id})",
    "Sentry SDK not available",
    "Traceback (most recent call last):\n"
    '  File "/app/handlers/orders.py", line {n}, in create_order\n'
    "    total = order['amount'] * rate\n"
    "KeyError: 'amount_{n}'",
    "TypeError: Cannot read properties of undefined (reading 'id')\n    at handler (/app/src/api.js:{n}:7)",
]
# Ordinary lines dominate real logs; most match nothing.
ORDINARY = [
    'GET /api/orders/{id} 200 {n}ms "Mozilla/5.0"',
    "Processed {n} records for tenant {id}",
    "Cache hit for key user:{id}",
    "Connected to database at {ip}:5432 (pool size 5)",
    "Booting worker with pid: {n}",
    "Request {id} completed in {n}ms with status 200",
    "User {n} logged in from {ip}",
    "Scheduled job sync_{n} finished",
]


def generate(n: int, *, failure_share: float = 0.35, seed: int = SEED) -> list[str]:
    """`n` deterministic messages, `failure_share` of them failure lines."""
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        pool = FAILURES if rnd.random() < failure_share else ORDINARY
        template = rnd.choice(pool)
        out.append(
            template.replace("{n}", str(rnd.randint(1, 9999)))
            .replace("{ip}", f"10.{rnd.randint(0, 255)}.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}")
            .replace("{id}", f"{rnd.getrandbits(48):012x}")
        )
    return out


def spike(n: int, distinct: int = 200, seed: int = SEED) -> list[str]:
    """An incident's sample: `distinct` lines repeated to `n` messages."""
    lines = generate(distinct, failure_share=0.8, seed=seed + 1)
    rnd = random.Random(seed + 2)
    return [rnd.choice(lines) for _ in range(n)]


def naive_classifier(signatures: Sequence[Signature]) -> Callable[[str], str]:
    """The baseline: our verdicts the straightforward way (benchmarks/_baselines.py)."""
    classifier = straightforward_classifier(signatures)

    def classify(message: str) -> str:
        return classifier.classify_message(message, severity="INFO").signature

    return classify


def timed(fn: Callable[[str], str], messages: Sequence[str]) -> tuple[float, list[str]]:
    start = time.perf_counter()
    out = [fn(m) for m in messages]
    return time.perf_counter() - start, out


def run(n: int) -> dict[str, object]:
    signatures = load_signatures()
    naive = naive_classifier(signatures)
    results: dict[str, object] = {"signatures": len(signatures), "messages": n}
    for name, messages in (("distinct", generate(n)), ("spike", spike(n))):
        classifier = Classifier(signatures)  # fresh cache per workload

        def ours(message: str, c: Classifier = classifier) -> str:
            return c.classify_message(message, severity="INFO").signature

        naive_s, naive_ids = timed(naive, messages)
        ours_s, our_ids = timed(ours, messages)
        agree = sum(a == b for a, b in zip(naive_ids, our_ids, strict=True)) / len(messages)
        results[name] = {
            "ours_msgs_per_s": round(n / ours_s),
            "naive_msgs_per_s": round(n / naive_s),
            "ratio": round(naive_s / ours_s, 2),
            "agreement": agree,
            "cache_hits": classifier.cache_info().hits,
        }
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40_000, help="messages per workload")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--quick", action="store_true", help="a small run that only checks the benchmark works (CI)")
    args = parser.parse_args(argv)
    results = run(2_000 if args.quick else args.n)
    if args.json:
        print(json.dumps(results, indent=2, sort_keys=True))
        return 0
    print(f"{results['signatures']} signatures, {results['messages']} messages per workload")
    print(f"{'workload':<10} {'ours msg/s':>12} {'naive msg/s':>12} {'ratio':>7} {'agree':>7}")
    for name in ("distinct", "spike"):
        row = results[name]
        assert isinstance(row, dict)
        print(
            f"{name:<10} {row['ours_msgs_per_s']:>12,} {row['naive_msgs_per_s']:>12,} "
            f"{row['ratio']:>6.1f}x {row['agreement']:>7.1%}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
