"""Composition root: builds the classifier, the knowledge and the incident service from settings.

Built once per process (a Cloud Function instance handles many events); nothing here runs at
import time, so `import main` stays cheap for cold starts.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from functions.analysis.classify.classifier import Classifier
from functions.analysis.classify.signature_files import load_signatures
from functions.analysis.classify.signatures import Signature
from functions.analysis.pipeline import AnalysisSettings, Knowledge, analyse
from functions.analysis.rootcause import SignatureInfo
from functions.analysis.templates.miner import TemplateMiner
from functions.card.incident import build_card
from functions.core.model import Alert, Card, Evidence, Incident, LogRecord
from functions.core.project_changes import AuditChange
from functions.entry.settings import Settings
from functions.incidents.ports import RecentLogs
from functions.incidents.service import IncidentService, Outcome, Renderers, Services
from functions.incidents.tick import Ticker, TickSettings
from functions.redaction.redact import redact


def knowledge_from(signatures: Sequence[Signature]) -> Knowledge:
    """The signature file in the shapes the health and root-cause stages use."""
    return Knowledge(
        signature_info={
            s.id: SignatureInfo(
                causes=frozenset(s.causes),
                action_priority=s.action.priority if s.action else None,
                action_text=s.action.text if s.action else "",
                failed_start=s.failed_start,
                crashes_instance=s.crashes_instance,
                summary=s.summary,
            )
            for s in signatures
        },
        failed_start=frozenset(s.id for s in signatures if s.failed_start),
        summaries={s.id: s.summary for s in signatures},
    )


@dataclass(frozen=True)
class Core:
    classifier: Classifier
    knowledge: Knowledge


_core: Core | None = None
_core_lock = threading.Lock()


def core() -> Core:
    """The classifier and knowledge, loaded once per process (signatures compile once)."""
    global _core
    with _core_lock:
        if _core is None:
            signatures = load_signatures()
            _core = Core(Classifier(signatures), knowledge_from(signatures))
        return _core


def analysis_settings(settings: Settings) -> AnalysisSettings:
    return AnalysisSettings(health=settings.health, region=settings.region)


def analyse_only(
    alert: Alert,
    records: Iterable[LogRecord | AuditChange],
    evidence: Evidence | None,
    settings: Settings,
) -> tuple[Incident, Card]:
    """The pipeline without delivery: what `replay` prints when nothing is configured to receive it."""
    c = core()
    incident = analyse(
        [alert],
        records,
        classifier=c.classifier,
        miner=TemplateMiner(),
        knowledge=c.knowledge,
        evidence=evidence,
        settings=analysis_settings(settings),
    )
    return incident, build_card(incident, redact)


def renderers() -> Renderers:
    from functions.render.markdown import render_issue_title, render_markdown, render_markdown_update
    from functions.render.owners import render_owners_markdown, render_owners_slack
    from functions.render.postmortem import render_postmortem_markdown, render_postmortem_slack
    from functions.render.slack import render_slack, render_slack_thread_update

    return Renderers(
        slack=render_slack,
        markdown=render_markdown,
        thread=render_slack_thread_update,
        comment=render_markdown_update,
        title=render_issue_title,
        postmortem=render_postmortem_markdown,
        postmortem_summary=render_postmortem_slack,
        owners_slack=render_owners_slack,
        owners_markdown=render_owners_markdown,
    )


def delivery_adapters(settings: Settings) -> Services:
    """Slack, GitHub and the local ledger, each only when its settings are present."""
    adapters = Services()
    if settings.slack_enabled:
        from functions.adapters.slack_chat import SlackChat

        adapters.chat = SlackChat(
            settings.slack_bot_token, settings.slack_channel, settings.slack_api_url, settings.http_timeout_s
        )
    if settings.github_enabled:
        from functions.adapters.github_issues import GitHubIssues

        adapters.tracker = GitHubIssues(
            settings.github_token,
            settings.github_repository,
            settings.github_api_url,
            settings.http_timeout_s,
            write_interval_s=settings.github_write_interval_s,
        )
    else:
        from functions.adapters.file_ledger import FileLedger

        adapters.ledger = FileLedger(Path(settings.ledger_path))
    return adapters


def build_service(settings: Settings, adapters: Services, *, interactive: bool = False) -> IncidentService:
    c = core()
    return IncidentService(
        classifier=c.classifier,
        miner_factory=TemplateMiner,
        knowledge=c.knowledge,
        redact=redact,
        renderers=renderers(),
        adapters=adapters,
        analysis=analysis_settings(settings),
        lookback=timedelta(minutes=settings.lookback_minutes),
        regression_window=timedelta(hours=settings.regression_hours),
        resolve_mode=settings.resolve_mode,
        interactive=interactive,
        evidence_scope=settings.evidence_scope,
        owners=settings.owners,
    )


def build_ticker(settings: Settings, service: IncidentService, adapters: Services) -> Ticker:
    """The tick over the same ledger and surfaces as the service, with the Alerts API and a quiet check."""
    from functions.adapters.monitoring_alerts import MonitoringAlerts
    from functions.card.incident import with_group_environment

    recent = adapters.logs if isinstance(adapters.logs, RecentLogs) else None
    return Ticker(
        service,
        tracker=adapters.tracker,
        ledger=adapters.ledger,
        alerts=MonitoringAlerts(base_url=settings.alerts_api_url, timeout_s=settings.http_timeout_s),
        recent=recent,
        group=lambda alert: with_group_environment(alert, settings.group_labels, settings.environment),
        settings=TickSettings(
            quiet=timedelta(minutes=settings.quiet_minutes),
            max_incidents=settings.tick_max_incidents,
            max_alert_reads=settings.tick_max_alert_reads,
            period=timedelta(minutes=settings.tick_minutes),
        ),
    )


def live_sources(settings: Settings, adapters: Services) -> Services:
    """Add the Cloud Logging, Cloud Monitoring and Cloud Run sources (the deployed function's evidence).

    The Logging source also reads the window's Admin Activity audit entries (what changed).
    """
    from functions.adapters.cloud_logging import CloudLoggingSource
    from functions.adapters.cloud_monitoring import CloudMonitoringSource
    from functions.adapters.cloud_run import CloudRunRevisions
    from functions.intake.metrics import metric_prefix

    logs = CloudLoggingSource(
        endpoint=settings.logging_api_endpoint,
        page_size=settings.log_page_size,
        pages=settings.log_pages,
        timeout_s=settings.http_timeout_s,
    )
    return replace(
        adapters,
        logs=logs,
        metrics=CloudMonitoringSource(
            endpoint=settings.monitoring_api_endpoint,
            timeout_s=settings.http_timeout_s,
            prefix=metric_prefix(settings.metric_prefix),
        ),
        audit=logs,
        revisions=CloudRunRevisions(endpoint=settings.run_api_endpoint, timeout_s=settings.http_timeout_s),
    )


__all__ = [
    "Outcome",
    "analyse_only",
    "build_service",
    "build_ticker",
    "core",
    "delivery_adapters",
    "knowledge_from",
    "live_sources",
]
