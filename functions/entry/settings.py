"""One settings object, loaded once from the environment, validated with clear messages.

Secrets are `Secret` values: they print as `<secret>` in repr, logs and error messages, so a
traceback or a debug line can never carry a token to Slack, GitHub or Cloud Logging.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Final, TypeVar

from functions.analysis.health import HealthThresholds
from functions.core.contracts import EvidenceScope, ResolveMode
from functions.core.errors import ConfigError
from functions.core.secret import Secret
from functions.incidents.owners import Owners, parse_owners

_E = TypeVar("_E", bound=StrEnum)


def _choice(env: Mapping[str, str], name: str, kind: type[_E]) -> _E:
    value = _get(env, name).lower()
    try:
        return kind(value)
    except ValueError:
        allowed = " or ".join(member.value for member in kind)
        raise ConfigError(f"{name}={value!r} must be {allowed}") from None


DEFAULT_SLACK_API_URL: Final = "https://slack.com/api/"
DEFAULT_GITHUB_API_URL: Final = "https://api.github.com"
_TOPIC: Final = re.compile(r"^projects/[^/]+/topics/[^/]+$")

# name: (default, description) — the README's settings table is checked against this (tests/test_settings.py).
DOCUMENTED: Final[dict[str, tuple[str, str]]] = {
    "SLACK_BOT_TOKEN": ("", "Slack bot token (xoxb-…); absent = no Slack delivery"),
    "SLACK_CHANNEL": ("", "Slack channel id (C…); absent = no Slack delivery"),
    "SLACK_API_URL": (DEFAULT_SLACK_API_URL, "Slack Web API base URL"),
    "SLACK_SIGNING_SECRET": ("", "verifies Slack's interactive requests and slash commands"),
    "GITHUB_TOKEN": ("", "GitHub token with Issues read/write; absent = no tracking issue"),
    "GITHUB_REPOSITORY": ("", "owner/repo of the tracking issues; absent = no tracking issue"),
    "GITHUB_API_URL": (DEFAULT_GITHUB_API_URL, "GitHub API base URL (GitHub Enterprise: https://HOST/api/v3)"),
    "LOGGING_API_ENDPOINT": ("", "Cloud Logging REST base URL override (http://127.0.0.1:PORT), anonymous credentials"),
    "MONITORING_API_ENDPOINT": ("", "Cloud Monitoring gRPC host:port override, insecure, anonymous"),
    "RUN_API_ENDPOINT": ("", "Cloud Run Admin API gRPC host:port override, insecure, anonymous"),
    "SITREP_LEDGER": (".sitrep-ledger.json", "local JSON ledger path, used when no tracking issue is configured"),
    "SITREP_TOPIC": ("", "Pub/Sub topic (projects/P/topics/T) the Slack actions function hands slow work to"),
    "PUBSUB_EMULATOR_HOST": ("", "google-cloud-pubsub's own setting for a local Pub/Sub server"),
    "GOOGLE_CLOUD_PROJECT": ("", "project `/sitrep status` reads request counts of (else the project of SITREP_TOPIC)"),
    "SITREP_SERVICES": ("", "comma-separated services `/sitrep status` always lists, even without traffic"),
    "SITREP_STATUS_MINUTES": ("15", "minutes of request counts `/sitrep status` judges health on"),
    "SITREP_REGION": ("", "Cloud Run region, for console links and rollback commands"),
    "SITREP_METRIC_PREFIX": ("sitrep", "the Terraform module's name_prefix, whose log-based metrics count signatures"),
    "SITREP_LOG_PAGES": ("3", "pages of error logs read per update (newest first)"),
    "SITREP_LOG_PAGE_SIZE": ("1000", "entries per Cloud Logging page (1–1000)"),
    "SITREP_EVIDENCE_SCOPE": ("project", "evidence from every Cloud Run service of the project, or only the `alert`'s"),
    "SITREP_LOOKBACK_MINUTES": ("30", "minutes of evidence read before the incident started"),
    "SITREP_MAX_EVENT_AGE_SECONDS": ("3600", "older Pub/Sub events are dropped as stale"),
    "SITREP_FAILING_5XX_RATIO": (
        "0.5", "5xx share at or above which a service is FAILING (over the window, or since requests began failing)"
    ),
    "SITREP_DEGRADED_5XX_RATIO": ("0.05", "5xx share at or above which a service is DEGRADED"),
    "SITREP_DEGRADED_4XX_RATIO": (
        "0.25", "4xx share (one client's refused tokens or probes aside) at or above which a service is DEGRADED"
    ),
    "SITREP_MIN_REQUESTS": ("5", "fewer requests than this and ratios are not judged"),
    "SITREP_FAILING_FAILED_STARTS": ("3", "failed instance starts that make a service FAILING"),
    "SITREP_ENVIRONMENT": ("", "environment of alerts whose policy has no env label (else the project id)"),
    "SITREP_GROUP_LABEL": ("env,environment", "policy user labels naming the environment an alert groups by"),
    "SITREP_RESOLVE_MODE": ("close", "on resolve: close the tracking issue, or only `label` it resolved"),
    "SITREP_REGRESSION_HOURS": ("24", "a new incident within this many hours of a closed one reopens its issue"),
    "SITREP_HTTP_TIMEOUT_SECONDS": ("10", "timeout of each Slack / GitHub / Google API call"),
    "SITREP_GITHUB_WRITE_INTERVAL_SECONDS": ("1", "pause between GitHub writes (GitHub's secondary-limit advice)"),
    "SITREP_QUIET_MINUTES": ("30", "minutes without matching entries after which a log-match-only incident resolves"),
    "SITREP_OWNERS": ("", "service owners to mention once per incident: inline YAML/JSON map, or a YAML file's path"),
    "SITREP_TICK_MAX_INCIDENTS": ("5", "active incidents a tick revisits (more rotate, a slice per tick)"),
    "SITREP_TICK_MAX_ALERT_READS": ("20", "Alerts API `alerts.get` calls a tick may make"),
    "SITREP_TICK_MINUTES": ("5", "the scheduler's tick period (which slice of incidents a tick visits)"),
    "SITREP_ALERTS_API_URL": ("", "Alerts API REST base URL override (http://127.0.0.1:PORT), no credentials"),
}


def _get(env: Mapping[str, str], name: str) -> str:
    return env.get(name, DOCUMENTED[name][0]).strip()


def _number(env: Mapping[str, str], name: str, low: float, high: float) -> float:
    raw = _get(env, name)
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}={raw!r} must be between {low:g} and {high:g}")
    return value


def _integer(env: Mapping[str, str], name: str, low: int, high: int) -> int:
    value = _number(env, name, low, high)
    if value != int(value):
        raise ConfigError(f"{name}={_get(env, name)!r} must be a whole number")
    return int(value)


_NAME_PREFIX: Final = re.compile(r"^[a-z][a-z0-9-]{2,18}[a-z0-9]$")  # the module's name_prefix validation


def _name_prefix(env: Mapping[str, str]) -> str:
    value = _get(env, "SITREP_METRIC_PREFIX")
    if not _NAME_PREFIX.match(value):
        raise ConfigError(f"SITREP_METRIC_PREFIX={value!r} must be a Terraform name_prefix (4-20 of a-z, 0-9, -)")
    return value


@dataclass(frozen=True)
class Settings:
    slack_bot_token: Secret = field(default_factory=lambda: Secret(""))
    slack_channel: str = ""
    slack_api_url: str = DEFAULT_SLACK_API_URL
    slack_signing_secret: Secret = field(default_factory=lambda: Secret(""))
    github_token: Secret = field(default_factory=lambda: Secret(""))
    github_repository: str = ""
    github_api_url: str = DEFAULT_GITHUB_API_URL
    logging_api_endpoint: str = ""
    monitoring_api_endpoint: str = ""
    run_api_endpoint: str = ""
    ledger_path: str = ".sitrep-ledger.json"
    topic: str = ""
    project: str = ""
    watched_services: tuple[str, ...] = ()
    status_minutes: int = 15
    region: str = ""
    metric_prefix: str = "sitrep"
    log_pages: int = 3
    log_page_size: int = 1000
    lookback_minutes: int = 30
    evidence_scope: EvidenceScope = EvidenceScope.PROJECT
    max_event_age_s: int = 3600
    health: HealthThresholds = field(default_factory=HealthThresholds)
    group_labels: tuple[str, ...] = ("env", "environment")
    environment: str = ""
    resolve_mode: ResolveMode = ResolveMode.CLOSE
    regression_hours: int = 24
    http_timeout_s: float = 10.0
    github_write_interval_s: float = 1.0
    quiet_minutes: int = 30
    owners: Mapping[str, Owners] = field(default_factory=dict)
    tick_max_incidents: int = 5
    tick_max_alert_reads: int = 20
    tick_minutes: int = 5
    alerts_api_url: str = ""

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token) and bool(self.slack_channel)

    @property
    def github_enabled(self) -> bool:
        return bool(self.github_token) and bool(self.github_repository)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Read and validate every setting; a bad value raises ConfigError naming it."""
        repo = _get(env, "GITHUB_REPOSITORY")
        if repo and (repo.count("/") != 1 or not all(repo.split("/"))):
            raise ConfigError(f"GITHUB_REPOSITORY={repo!r} must be owner/repo")
        channel = _get(env, "SLACK_CHANNEL")
        if channel and (" " in channel or channel.startswith("#")):
            raise ConfigError(f"SLACK_CHANNEL={channel!r} must be a channel id such as C0123456789, not a name")
        scope = _choice(env, "SITREP_EVIDENCE_SCOPE", EvidenceScope)
        resolve_mode = _choice(env, "SITREP_RESOLVE_MODE", ResolveMode)
        for name in ("SLACK_API_URL", "GITHUB_API_URL"):
            if not _get(env, name).startswith(("http://", "https://")):
                raise ConfigError(f"{name}={_get(env, name)!r} must be an http(s) URL")
        slack_url = _get(env, "SLACK_API_URL")
        topic = _get(env, "SITREP_TOPIC")
        if topic and not _TOPIC.match(topic):
            raise ConfigError(f"SITREP_TOPIC={topic!r} must be projects/PROJECT/topics/TOPIC")
        services = tuple(dict.fromkeys(x.strip() for x in _get(env, "SITREP_SERVICES").split(",") if x.strip()))
        return cls(
            slack_bot_token=Secret(_get(env, "SLACK_BOT_TOKEN")),
            slack_channel=channel,
            slack_api_url=slack_url if slack_url.endswith("/") else slack_url + "/",
            slack_signing_secret=Secret(_get(env, "SLACK_SIGNING_SECRET")),
            github_token=Secret(_get(env, "GITHUB_TOKEN")),
            github_repository=repo,
            github_api_url=_get(env, "GITHUB_API_URL").rstrip("/"),
            logging_api_endpoint=_get(env, "LOGGING_API_ENDPOINT").rstrip("/"),
            monitoring_api_endpoint=_get(env, "MONITORING_API_ENDPOINT"),
            run_api_endpoint=_get(env, "RUN_API_ENDPOINT"),
            ledger_path=_get(env, "SITREP_LEDGER"),
            topic=topic,
            project=_get(env, "GOOGLE_CLOUD_PROJECT") or (topic.split("/")[1] if topic else ""),
            watched_services=services,
            status_minutes=_integer(env, "SITREP_STATUS_MINUTES", 1, 24 * 60),
            region=_get(env, "SITREP_REGION"),
            metric_prefix=_name_prefix(env),
            log_pages=_integer(env, "SITREP_LOG_PAGES", 1, 20),
            log_page_size=_integer(env, "SITREP_LOG_PAGE_SIZE", 1, 1000),
            lookback_minutes=_integer(env, "SITREP_LOOKBACK_MINUTES", 0, 24 * 60),
            evidence_scope=scope,
            max_event_age_s=_integer(env, "SITREP_MAX_EVENT_AGE_SECONDS", 1, 7 * 24 * 3600),
            health=HealthThresholds(
                failing_5xx_ratio=_number(env, "SITREP_FAILING_5XX_RATIO", 0, 1),
                degraded_5xx_ratio=_number(env, "SITREP_DEGRADED_5XX_RATIO", 0, 1),
                degraded_4xx_ratio=_number(env, "SITREP_DEGRADED_4XX_RATIO", 0, 1),
                min_requests=_integer(env, "SITREP_MIN_REQUESTS", 0, 10**9),
                failing_failed_starts=_integer(env, "SITREP_FAILING_FAILED_STARTS", 1, 10**9),
            ),
            group_labels=tuple(x.strip() for x in _get(env, "SITREP_GROUP_LABEL").split(",") if x.strip()),
            environment=_get(env, "SITREP_ENVIRONMENT"),
            resolve_mode=resolve_mode,
            regression_hours=_integer(env, "SITREP_REGRESSION_HOURS", 0, 24 * 365),
            http_timeout_s=_number(env, "SITREP_HTTP_TIMEOUT_SECONDS", 0.1, 300),
            github_write_interval_s=_number(env, "SITREP_GITHUB_WRITE_INTERVAL_SECONDS", 0, 60),
            quiet_minutes=_integer(env, "SITREP_QUIET_MINUTES", 1, 24 * 60),
            owners=_owners(_get(env, "SITREP_OWNERS")),
            tick_max_incidents=_integer(env, "SITREP_TICK_MAX_INCIDENTS", 1, 100),
            tick_max_alert_reads=_integer(env, "SITREP_TICK_MAX_ALERT_READS", 0, 500),
            tick_minutes=_integer(env, "SITREP_TICK_MINUTES", 1, 24 * 60),
            alerts_api_url=_get(env, "SITREP_ALERTS_API_URL").rstrip("/"),
        )


MAX_OWNERS_FILE_BYTES: Final = 256 * 1024


def _owners(value: str) -> dict[str, Owners]:
    """SITREP_OWNERS: an inline YAML (or JSON) map, or the path of a small YAML file holding one."""
    if not value:
        return {}
    import yaml

    if value.lstrip().startswith("{"):
        text, where = value, "SITREP_OWNERS"
    else:
        path = Path(value)
        try:
            if path.stat().st_size > MAX_OWNERS_FILE_BYTES:
                raise ConfigError(f"SITREP_OWNERS file {value} is over {MAX_OWNERS_FILE_BYTES} bytes")
            text, where = path.read_text(encoding="utf-8"), f"SITREP_OWNERS file {value}"
        except OSError as exc:
            raise ConfigError(f"SITREP_OWNERS={value!r}: not an inline map and not a readable file "
                              f"({exc.strerror})") from None
    try:
        return parse_owners(yaml.safe_load(text))
    except yaml.YAMLError:
        raise ConfigError(f"{where} is not valid YAML") from None
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None
