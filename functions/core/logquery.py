"""The one quoting function for values in the Cloud Logging query language.

Both the adapter that reads logs and the card's suggested alert-filter exclusions write queries;
a value taken from a log line (attacker-controlled) must never end the string it sits in.
"""

from __future__ import annotations


def quote(value: str) -> str:
    """`value` as a double-quoted Logging query string: backslashes and quotes escaped, one line."""
    flat = " ".join(value.split())
    return '"' + flat.replace("\\", "\\\\").replace('"', '\\"') + '"'
