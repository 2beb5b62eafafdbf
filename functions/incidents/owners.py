"""Owners: which people or teams hear about an incident on their service, each exactly once.

The map comes from configuration only (SITREP_OWNERS): Slack user-group ids (S…) and user ids (U…/W…),
GitHub users and `org/team` slugs. Every handle is validated here, so a mention can only ever be one
that an operator wrote down, never something taken from a log line or an alert.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

SLACK_ID: Final = re.compile(r"^[SUW][A-Z0-9]{2,20}$")  # user group S…, user U… or W… (Enterprise Grid)
GITHUB_USER: Final = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
GITHUB_TEAM: Final = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
MAX_HANDLES_PER_SERVICE: Final = 10


@dataclass(frozen=True)
class Owners:
    """One service's owners on each surface."""

    slack: tuple[str, ...] = ()
    github: tuple[str, ...] = ()

    @property
    def github_users(self) -> tuple[str, ...]:
        """The GitHub handles an issue can be assigned to (teams can only be mentioned)."""
        return tuple(h for h in self.github if "/" not in h)


OwnerMap = Mapping[str, Owners]


def _handles(value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where} must be a handle or a list of handles")
    handles = tuple(dict.fromkeys(v.strip().removeprefix("@") for v in value if v.strip()))
    if len(handles) > MAX_HANDLES_PER_SERVICE:
        raise ValueError(f"{where} lists {len(handles)} handles; at most {MAX_HANDLES_PER_SERVICE}")
    return handles


def parse_owners(data: object) -> dict[str, Owners]:
    """`{service: {slack: [S…|U…], github: [user|org/team]}}` validated; ValueError says what is wrong."""
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ValueError("must map service names to {slack: [...], github: [...]}")
    owners: dict[str, Owners] = {}
    for service, spec in data.items():
        if not isinstance(service, str) or not service.strip():
            raise ValueError(f"service name {service!r} is not text")
        if not isinstance(spec, Mapping) or set(spec) - {"slack", "github"}:
            raise ValueError(f"{service}: expected keys slack and/or github")
        slack = _handles(spec.get("slack"), f"{service}.slack")
        github = _handles(spec.get("github"), f"{service}.github")
        for handle in slack:
            if not SLACK_ID.match(handle):
                raise ValueError(f"{service}.slack: {handle!r} is not a Slack user-group (S…) or user (U…) id")
        for handle in github:
            if not (GITHUB_USER.match(handle) or GITHUB_TEAM.match(handle)):
                raise ValueError(f"{service}.github: {handle!r} is not a GitHub user or org/team")
        owners[service.strip()] = Owners(slack, github)
    return owners


def due_owners(
    owners: OwnerMap, services: Iterable[str], notified: Iterable[str], surface: str
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(service, handles) not yet mentioned on `surface` ("slack" or "github") for these services.

    A handle owning several affected services is mentioned once, with the first of them.
    """
    seen = {n.partition(":")[2] for n in notified if n.startswith(f"{surface}:")}
    out: list[tuple[str, tuple[str, ...]]] = []
    for service in dict.fromkeys(services):
        spec = owners.get(service)
        if spec is None:
            continue
        handles = tuple(h for h in (spec.slack if surface == "slack" else spec.github) if h not in seen)
        if handles:
            seen.update(handles)
            out.append((service, handles))
    return tuple(out)


def notified_marks(due: Iterable[tuple[str, tuple[str, ...]]], surface: str) -> tuple[str, ...]:
    """What the ledger records for mentions made, so that none is made twice."""
    return tuple(f"{surface}:{h}" for _, handles in due for h in handles)


__all__ = ["OwnerMap", "Owners", "due_owners", "notified_marks", "parse_owners"]
