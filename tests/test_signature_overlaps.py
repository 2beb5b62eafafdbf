"""Report: every signature example (tests/test_classify.py POSITIVES) that more than one specific
signature matches. The merge order (functions/analysis/classify/signatures.d/README.md) decides those; the report
is printed so a reviewer sees what a new rule shadows or is shadowed by (pytest -s shows it).

The test fails only when a overlap resolves against the example, i.e. the example's own
signature is not the first in merged order among those that match it.
"""

from __future__ import annotations

import pytest

from functions.analysis.classify.signature_files import load_signatures
from tests.test_classify import POSITIVES, Case

SPECIFIC = [s for s in load_signatures() if s.regex is not None and not s.catch_all]


def _matching(case: Case) -> list[str]:
    return [s.id for s in SPECIFIC if s.regex is not None and s.regex.search(case.message)]


def overlap_report() -> list[tuple[Case, list[str]]]:
    """(example, ids of the specific signatures matching it in merged order), overlaps only."""
    rows = []
    for case in POSITIVES:
        if not case.message or case.status is not None:
            continue
        ids = _matching(case)
        if len(ids) > 1:
            rows.append((case, ids))
    return rows


@pytest.fixture(scope="module")
def overlaps() -> list[tuple[Case, list[str]]]:
    rows = overlap_report()
    examples = sum(1 for c in POSITIVES if c.message and c.status is None)
    print(f"\n{len(rows)} of {examples} signature examples match more than one specific signature:")
    for case, ids in rows:
        print(f"  {case.signature}: {' > '.join(ids)}  | {case.message[:90]!r}")
    return rows


def test_overlaps_resolve_to_the_examples_own_signature(overlaps: list[tuple[Case, list[str]]]) -> None:
    """Where an example's own signature is specific, it is the first match in merged order
    (examples of catch-alls are expected to be matched by nothing specific)."""
    specific_ids = {s.id for s in SPECIFIC}
    wrong = [(c.signature, ids) for c, ids in overlaps if c.signature in specific_ids and ids[0] != c.signature]
    assert wrong == []
