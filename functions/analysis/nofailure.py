"""A spike without a failure: the alert fired on harmless notices or on client errors.

Then the card's job is to say so plainly, name what the alert counted, and give the one thing to
do: stop the alert policy from counting it. The exclusion is written in the Logging query language
from the templates themselves (the literal text a template keeps), so it is exact for the lines
seen, and the policy is named from the notification.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from functions.analysis.health import one_client
from functions.analysis.rootcause import can_cause
from functions.core.logquery import quote
from functions.core.model import (
    Action,
    Alert,
    Category,
    Failure,
    Health,
    Priority,
    RequestStats,
    ServiceHealth,
    Severity,
    Template,
)

MAX_EXCLUDED = 5  # templates named in one exclusion: the alert's bulk, and a filter a person can read
MAX_NAMED = 3  # templates named in the summary sentence
MIN_LITERAL_CHARS = 12  # shorter literal text matches too much to exclude safely
MIN_NAMING_CHARS = 24  # a run this long is a phrase, specific enough to name the notice by
MAX_NAME_CHARS = 60  # a notice named in the summary sentence
MAX_LITERAL_CHARS = 160  # a Logging substring match is exact at any length; past this it is hard to read
_MASK = re.compile(r"<\*>|<[A-Z_]+>")
_SHOWN_PATHS = 3


@dataclass(frozen=True)
class NoFailure:
    """What the card says when the window holds no failure."""

    summary: str
    action: Action


def _is_failure(failure: Failure) -> bool:
    """A line that is a failure of the server (weak cues count: "no failure" must be sure)."""
    if failure.category is Category.NOISE or failure.client_errors >= failure.count:
        return False
    if failure.category is Category.UNKNOWN:
        return failure.severity in (Severity.CRITICAL, Severity.ERROR)  # an error we cannot read is not "none"
    return True


def has_no_failure(services: Sequence[ServiceHealth], failures: Sequence[Failure]) -> bool:
    """True when no service is hurt and every line is noise, a quiet unclassified line or a client error."""
    if any(h.status in (Health.FAILING, Health.DEGRADED) for h in services):
        return False
    return not any(_is_failure(f) or can_cause(f) for f in failures)


def literal_of(template: Template) -> str:
    """The fixed text that names a template: what every line of it contains.

    The first run long enough to be specific (a message says what it is first, and elaborates after),
    else the longest; cut at a word within MAX_LITERAL_CHARS.
    """
    runs = [" ".join(part.split()).strip(" :=,;.'\"()[]{}") for part in _MASK.split(template.text)]
    best = next((run for run in runs if len(run) >= MIN_NAMING_CHARS), max(runs, key=len, default=""))
    if len(best) > MAX_LITERAL_CHARS:
        cut = best[:MAX_LITERAL_CHARS]
        best = cut[: cut.rfind(" ")] if " " in cut else cut
    return best


def _exclusion(templates: Sequence[Template]) -> str:
    terms = []
    for template in templates:
        literal = literal_of(template)
        if len(literal) >= MIN_LITERAL_CHARS:
            terms.append(f"NOT {template.text_field or 'textPayload'}:{quote(literal)}")
    return " AND ".join(dict.fromkeys(terms))


def _policy(alerts: Sequence[Alert]) -> str:
    names = list(dict.fromkeys(a.policy_name for a in alerts if a.policy_name))
    return names[0] if names else "the alert"


def _name(template: Template) -> str:
    """What to call a notice: its own fixed text (a signature's summary may be generic: "runtime warning")."""
    text = literal_of(template)
    return text if len(text) <= MAX_NAME_CHARS else text[: text.rfind(" ", 0, MAX_NAME_CHARS)] + " …"


def _noise_verdict(templates: Sequence[Template], policy: str) -> NoFailure | None:
    """Name the notices the alert counted: a log-count alert counts warnings and errors, so when some
    notices were logged at WARNING or above, those are what tripped it; quieter ones are named only
    when there is nothing louder (and listed loudest first)."""
    quiet = [t for t in templates if t.category in (Category.NOISE, Category.UNKNOWN)
             and len(literal_of(t)) >= MIN_LITERAL_CHARS]
    loud = sorted((t for t in quiet if t.loud), key=lambda t: (-t.loud, t.template_id))
    named = (loud or quiet)[:MAX_EXCLUDED]
    if not named:
        return None
    what = "; ".join(
        f"{t.count:,} × {_name(t)}" + (": harmless" if t.category is Category.NOISE else "")
        for t in named[:MAX_NAMED]
    )
    summary = f"No failure found: the alert fired on notices that are not failures ({what})."
    text = (
        f"Add to the filter of policy {quote(policy)}: {_exclusion(named)} "
        "(these notices are not failures; excluding them keeps the alert for real errors)."
    )
    return NoFailure(summary, Action(Priority.P1, text, Category.NOISE, "alert-filter-exclusion"))


def _client_verdict(
    failures: Sequence[Failure],
    stats: Mapping[str, RequestStats],
    templates: Sequence[Template],
    policy: str,
) -> NoFailure | None:
    client_failures = [f for f in failures if f.client_errors and f.client_errors >= f.count]
    if not client_failures:
        return None
    busiest = max(stats.values(), key=lambda s: (s.by_class.get("4xx", 0), s.service), default=None)
    statuses = sorted(
        ((code, n) for code, n in (busiest.by_status.items() if busiest else ()) if 400 <= code < 500),
        key=lambda item: (-item[1], item[0]),
    )
    if statuses:
        status, count = str(statuses[0][0]), statuses[0][1]
    else:
        status, count = "4xx", sum(f.client_errors for f in client_failures)
    where = f" from {busiest.service}" if busiest else ""
    sources = [found for kind in ("ip", "agent") if busiest and (found := one_client(busiest, kind))]
    if sources:
        named = ", ".join(f"{c.partition(' ')[0]} {quote(c.partition(' ')[2])}" for c, _, _ in sources)
        share = max(share for _, _, share in sources)
        paths = ", ".join(sources[0][1].paths[:_SHOWN_PATHS])
        who = f"one client ({named}; {share * 100:.0f}% of the logged 4xx) requesting {paths}, …"
        fields = {"ip": "httpRequest.remoteIp", "agent": "httpRequest.userAgent"}
        client, _, _ = sources[0]
        kind, _, value = client.partition(" ")
        clause = f"NOT ({fields[kind]}={quote(value)} AND httpRequest.status>=400 AND httpRequest.status<500)"
        text = (
            f"The {status}s come from one client ({named}) requesting {paths}, …: add to the filter of "
            f"policy {quote(policy)}: {clause} (request_count has no client label: count the 4xx with a "
            "log-based metric on the request log), or block the client at the edge (a Cloud Armor deny rule)."
        )
    else:
        examples = [t.text for t in templates if t.template_id.startswith("req-")][:_SHOWN_PATHS]
        who = ("requests such as " + "; ".join(examples)) if examples else "many clients"
        clause = f"NOT httpRequest.status={status}"
        text = f"Add to the filter of policy {quote(policy)}: {clause} (these are answers to clients, not failures)."
    summary = f"No failure found: the alert fired on client errors ({count:,} × {status}{where}: {who})."
    return NoFailure(summary, Action(Priority.P1, text, Category.APPLICATION, "alert-filter-exclusion"))


def explain_no_failure(
    alerts: Sequence[Alert],
    services: Sequence[ServiceHealth],
    failures: Sequence[Failure],
    templates: Sequence[Template],
    stats: Mapping[str, RequestStats],
) -> NoFailure | None:
    """The card's verdict for a spike without a failure, or None when there is a failure to report.

    What the alert fired on: client errors when the alert counts requests (its condition reads
    request_count or response codes) or when there are no notices; else the notices.
    """
    if not has_no_failure(services, failures):
        return None
    policy = _policy(alerts)
    counts_requests = any(
        "request_count" in a.condition_filter or "response_code" in a.condition_filter for a in alerts
    )
    client = _client_verdict(failures, stats, templates, policy)
    noise = _noise_verdict(templates, policy)
    if client is not None and (counts_requests or noise is None):
        return client
    return noise or client
