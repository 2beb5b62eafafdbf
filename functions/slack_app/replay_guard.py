"""Acting once on a signed Slack request: the signatures already accepted, remembered for the signing window.

Slack signs "v0:{timestamp}:{raw body}" and we accept a signature for `SIGNATURE_MAX_AGE_S` after its
timestamp, so a captured request can be sent again, byte for byte, and still verify. Its signature is
the same every time (an attacker without the signing secret cannot make another valid one for the same
body), so remembering every accepted signature until its timestamp leaves the window is enough to refuse
every replay: after the window the signature check itself refuses it.

Why an in-process memory is sufficient here: the deployed Slack HTTP function runs with at most one
instance (terraform/modules/sitrep/slack.tf sets max_instance_count = 1 for exactly this reason), so every
request Slack sends reaches this one process, which serialises the check-and-remember under a lock.
What it does not cover, said plainly:

- a cold start (a new instance after a scale-to-zero or a deploy) begins with an empty memory, so a
  request accepted by the previous instance can be replayed once more within its 5 minutes;
- during a deploy Cloud Run may briefly run the old and the new revision side by side, each with its
  own memory.

In both cases the action itself bounds the damage: Acknowledge by the same person, Resolve of a resolved
incident and Silence of an incident already silenced for the hour change nothing (functions.actions
refuses them from the ledger, which is shared through the tracking issue); only Refresh redraws the card
again (a chat.update and a thread reply, no issue comment). A shared store (Firestore, Memorystore) would
close the gap at the price of a dependency and a network round trip inside Slack's 3-second budget.

Bounded: at most `capacity` signatures are held. Only requests that passed the HMAC check are
remembered, so filling it takes that many genuine Slack requests within 5 minutes, which no team's
clicking reaches; if it ever were full of live entries, new requests are refused (fail closed) rather
than forgetting one that could then be replayed.
"""

from __future__ import annotations

import heapq
import threading
from enum import Enum
from typing import Final

DEFAULT_CAPACITY: Final = 10_000


class Verdict(Enum):
    """What to do with a request whose signature verified."""

    FIRST = "first"  # never seen: act on it
    REPLAY = "replay"  # seen within the window: refuse, change nothing
    FULL = "full"  # memory full of live signatures: refuse rather than risk a replay


class ReplayGuard:
    """Remembers accepted request signatures until they expire; thread-safe, bounded."""

    def __init__(self, window_s: float, capacity: int = DEFAULT_CAPACITY) -> None:
        if window_s <= 0 or capacity <= 0:
            raise ValueError("window and capacity must be positive")
        self._window_s = window_s
        self._capacity = capacity
        self._expiry: dict[str, float] = {}
        self._queue: list[tuple[float, str]] = []  # (expiry, signature), a min-heap
        self._lock = threading.Lock()

    def admit(self, signature: str, timestamp: float, now: float) -> Verdict:
        """Remember `signature` (signed at `timestamp`) and say whether it was new.

        The entry lives until `timestamp + window`, the moment the signature check starts refusing the
        request by age (slack_sdk compares |now - timestamp| with the window, so a timestamp ahead of
        our clock verifies longer, and is remembered longer).
        """
        key = signature.strip().lower()
        expires = timestamp + self._window_s
        with self._lock:
            self._forget_expired(now)
            if key in self._expiry:
                return Verdict.REPLAY
            if len(self._expiry) >= self._capacity:
                return Verdict.FULL
            self._expiry[key] = expires
            heapq.heappush(self._queue, (expires, key))
            return Verdict.FIRST

    def __len__(self) -> int:
        with self._lock:
            return len(self._expiry)

    def _forget_expired(self, now: float) -> None:
        while self._queue and self._queue[0][0] < now:
            _, key = heapq.heappop(self._queue)
            del self._expiry[key]


__all__ = ["DEFAULT_CAPACITY", "ReplayGuard", "Verdict"]
