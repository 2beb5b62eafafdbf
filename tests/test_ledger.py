"""The local ledgers: a JSON file that loses no update under concurrency and never drops a corrupt file."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from functions.adapters.file_ledger import FileLedger
from functions.core.errors import ConfigError
from functions.core.model import AlertState, IncidentStatus
from functions.incidents.lifecycle import LedgerEntry, Member, SurfaceState, entry_from_json, entry_to_json

THREADS = 8
ROUNDS = 6


def increment(entry: dict[str, Any] | None) -> dict[str, Any]:
    return {"count": (entry or {"count": 0})["count"] + 1}


# A child interpreter that imports only the ledger (quick to start; no fork of a threaded test process).
BUMP = """
import sys
from pathlib import Path
from functions.adapters.file_ledger import FileLedger
ledger = FileLedger(Path(sys.argv[1]))
for _ in range(int(sys.argv[2])):
    ledger.update("shared", lambda e: {"count": (e or {"count": 0})["count"] + 1})
"""
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def ledger(tmp_path: Path) -> FileLedger:
    return FileLedger(tmp_path / "ledger.json")


def test_an_unknown_key_loads_as_none(ledger: FileLedger) -> None:
    assert ledger.load("proj/prod") is None


def test_save_then_load_round_trips_and_replaces(ledger: FileLedger) -> None:
    ledger.save("proj/prod", {"generation": 1, "members": [{"id": "0.a"}]})
    ledger.save("proj/prod", {"generation": 2})
    ledger.save("proj/staging", {"generation": 1})
    assert ledger.load("proj/prod") == {"generation": 2}
    assert ledger.keys() == ["proj/prod", "proj/staging"]


def test_callers_cannot_change_what_is_stored(ledger: FileLedger) -> None:
    entry = {"members": ["0.a"]}
    ledger.save("k", entry)
    entry["members"].append("mutated after save")
    loaded = ledger.load("k")
    assert loaded is not None
    loaded["members"].append("mutated after load")
    assert ledger.load("k") == {"members": ["0.a"]}


def test_concurrent_saves_of_different_keys_lose_nothing(ledger: FileLedger) -> None:
    def worker(n: int) -> None:
        for i in range(ROUNDS):
            ledger.save(f"t{n}/k{i}", {"n": n, "i": i})

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ledger.keys()) == THREADS * ROUNDS
    assert ledger.load("t3/k5") == {"n": 3, "i": 5}


def test_concurrent_updates_of_one_key_lose_no_increment(ledger: FileLedger) -> None:
    threads = [
        threading.Thread(target=lambda: [ledger.update("shared", increment) for _ in range(ROUNDS)])
        for _ in range(THREADS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert ledger.load("shared") == {"count": THREADS * ROUNDS}


def test_processes_sharing_the_file_lose_no_increment(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    workers = [subprocess.Popen([sys.executable, "-c", BUMP, str(path), str(ROUNDS)], cwd=REPO) for _ in range(4)]
    assert [p.wait(timeout=30) for p in workers] == [0, 0, 0, 0]
    assert FileLedger(path).load("shared") == {"count": 4 * ROUNDS}


def test_the_file_is_versioned_json_and_no_temp_files_remain(tmp_path: Path) -> None:
    path = tmp_path / "state" / "ledger.json"  # a missing directory is created
    FileLedger(path).save("proj/prod", {"generation": 1, "note": "ünïcode"})
    assert json.loads(path.read_text(encoding="utf-8")) == {
        "version": 1,
        "entries": {"proj/prod": {"generation": 1, "note": "ünïcode"}},
    }
    assert sorted(p.name for p in path.parent.iterdir()) == ["ledger.json", "ledger.json.lock"]


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[]",
        '{"entries": []}',
        '{"version": 2, "entries": {}}',
        '{"version": 1}',
    ],
)
def test_a_corrupt_file_is_an_error_naming_it_and_is_left_untouched(tmp_path: Path, content: str) -> None:
    path = tmp_path / "ledger.json"
    path.write_text(content, encoding="utf-8")
    ledger = FileLedger(path)

    with pytest.raises(ConfigError, match=str(path)):
        ledger.load("k")
    with pytest.raises(ConfigError, match=str(path)):
        ledger.save("k", {"generation": 1})
    assert path.read_text(encoding="utf-8") == content


def test_an_entry_that_is_not_json_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    ledger = FileLedger(tmp_path / "ledger.json")
    ledger.save("k", {"generation": 1})
    with pytest.raises(TypeError):
        ledger.save("k", {"when": datetime(2025, 1, 1)})
    assert ledger.load("k") == {"generation": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.json", "ledger.json.lock"]


def test_a_lifecycle_entry_round_trips_through_the_file(tmp_path: Path) -> None:
    entry = LedgerEntry(
        key="proj/prod",
        generation=2,
        status=IncidentStatus.RESOLVED,
        opened_at=datetime(2025, 9, 16, 1, 0, tzinfo=UTC),
        resolved_at=datetime(2025, 9, 16, 1, 40, tzinfo=UTC),
        members=(Member("0.a", "5xx ratio", AlertState.CLOSED, started_at=datetime(2025, 9, 16, 1, 0, tzinfo=UTC)),),
        slack=SurfaceState(ref="C0FAKE0001:1700000000.000100", digest="d1", generation=2),
    )
    FileLedger(tmp_path / "ledger.json").save(entry.key, entry_to_json(entry))
    stored = FileLedger(tmp_path / "ledger.json").load(entry.key)
    assert stored is not None and entry_from_json(stored) == entry
