"""The classification baseline the analysis and classification benchmarks share."""

from __future__ import annotations

from collections.abc import Sequence

from functions.analysis.classify.classifier import Classifier
from functions.analysis.classify.signatures import Signature

NO_SET_BYTES = 1_024  # too small for RE2 to build the set: the classifier tries every pattern in turn


def straightforward_classifier(signatures: Sequence[Signature]) -> Classifier:
    """Our verdicts, the straightforward way: every signature's Python regex in merged order (the
    classifier's exact fallback when RE2 cannot build its set), then the cues, nothing memoised."""
    classifier = Classifier(signatures, cache_size=0, set_max_mem_bytes=NO_SET_BYTES)
    if classifier.uses_set:
        raise SystemExit("the baseline must run without the RE2 set")
    return classifier
