"""Ledgers for when no tracking issue carries the incident entries: a JSON file, or memory.

The file is `{"version": 1, "entries": {key: entry}}`. Every write is a read-modify-write of the
whole file under an exclusive `flock` on a sibling lock file (separate open file descriptions, so
it serialises threads as well as processes), and lands atomically: a temp file in the same
directory, fsync, `os.replace`. A reader therefore sees the old file or the new one, never half.

A missing file is an empty ledger. A file that is not a ledger raises ConfigError naming the path
rather than being overwritten: it holds the memory of open incidents.
"""

from __future__ import annotations

import copy
import fcntl
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from functions.core.errors import ConfigError

FILE_VERSION = 1

Updater = Callable[[dict[str, Any] | None], dict[str, Any]]


class FileLedger:
    """Incident entries in a local JSON file, safe for concurrent threads and processes."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock_path = self.path.with_name(self.path.name + ".lock")

    def __repr__(self) -> str:
        return f"FileLedger({str(self.path)!r})"

    def load(self, key: str) -> dict[str, Any] | None:
        """The entry stored for `key`, or None (also when the file does not exist yet)."""
        entry = self._read().get(key)
        return copy.deepcopy(entry) if entry is not None else None

    def keys(self) -> list[str]:
        """Every stored key, sorted."""
        return sorted(self._read())

    def save(self, key: str, entry: dict[str, Any]) -> None:
        """Store `entry` under `key`; entries of other keys written concurrently are kept."""
        self.update(key, lambda _old: entry)

    def update(self, key: str, change: Updater) -> dict[str, Any]:
        """Replace the entry for `key` with `change(old entry or None)` atomically; returns the new entry.

        The whole read-modify-write holds the lock, so concurrent increments are not lost.
        """
        with self._locked():
            entries = self._read()
            new = change(copy.deepcopy(entries.get(key)))
            entries[key] = new
            self._write(entries)
            return copy.deepcopy(new)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self._ensure_dir()
        try:
            handle = open(self._lock_path, "a+b")  # noqa: SIM115 - held for the duration of the lock
        except OSError as exc:
            raise ConfigError(f"ledger {self._lock_path}: cannot open lock file: {exc.strerror}") from None
        with handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _ensure_dir(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"ledger {self.path}: cannot create directory: {exc.strerror}") from None

    def _read(self) -> dict[str, Any]:
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise ConfigError(f"ledger {self.path}: cannot read: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"ledger {self.path}: not UTF-8 text; fix or move the file") from None
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise ConfigError(f"ledger {self.path}: not valid JSON ({exc}); fix or move the file") from None
        if not isinstance(data, dict) or not isinstance(data.get("entries"), dict):
            raise ConfigError(
                f'ledger {self.path}: expected {{"version": 1, "entries": {{...}}}}; fix or move the file'
            )
        if data.get("version") != FILE_VERSION:
            raise ConfigError(f"ledger {self.path}: unsupported version {data.get('version')!r}")
        entries: dict[str, Any] = data["entries"]
        return entries

    def _write(self, entries: dict[str, Any]) -> None:
        text = json.dumps({"version": FILE_VERSION, "entries": entries}, indent=1, sort_keys=True, ensure_ascii=False)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text + "\n")
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise ConfigError(f"ledger {self.path}: cannot write: {exc.strerror}") from None
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
