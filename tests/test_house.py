"""The house keeps its shape: small modules, one constant per string contract, no map outside the repo.

The layers themselves are checked by `lint-imports` (pyproject.toml, run by .ci/run).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from functions.core.contracts import EVENT_FIELD, FAILURE_EVENT

ROOT = Path(__file__).resolve().parent.parent
MODULES = sorted((ROOT / "functions").rglob("*.py"))
MAX_MODULE_LINES = 500  # past this a module holds more than one idea (STYLE: small files, narrow interfaces)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_is_over_the_size_limit(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_MODULE_LINES, f"{lines} lines: split it by idea"


def test_the_failure_marker_is_one_constant_that_terraform_counts() -> None:
    spelled = [p for p in MODULES if f'= "{FAILURE_EVENT}"' in p.read_text(encoding="utf-8") or
               f'"{EVENT_FIELD}": "{FAILURE_EVENT}"' in p.read_text(encoding="utf-8")]
    assert spelled == [ROOT / "functions" / "core" / "contracts.py"]
    selfmon = (ROOT / "terraform" / "modules" / "sitrep" / "selfmon.tf").read_text(encoding="utf-8")
    assert f'jsonPayload.{EVENT_FIELD}=\\"{FAILURE_EVENT}\\"' in selfmon


def test_code_cites_only_documents_in_the_repository() -> None:
    outside = re.compile(r"DESIGN §|wire-formats|reference §")
    cited = [str(p.relative_to(ROOT)) for p in [*MODULES, ROOT / "main.py"] if outside.search(p.read_text("utf-8"))]
    assert cited == []
