"""sitrep entry points: the Cloud Functions (`handle_alert`, `slack_actions`) and the command line.

Only decoding, wiring and error mapping live here; the analysis is in `functions/`.
Heavy client libraries are imported lazily so that `import main` stays fast (cold start).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from functions.core.errors import InputError, SitrepError

if TYPE_CHECKING:
    import flask
    from cloudevents.http import CloudEvent

FORMATS = ("text", "markdown", "slack", "json")
_Entry = TypeVar("_Entry", bound=Callable[..., Any])


def _served_as(kind: str) -> Callable[[_Entry], _Entry]:
    """functions-framework's decorator for `kind` when the framework loads this file; the function
    itself when the file runs as the CLI, which then does not pay for importing the framework
    (Flask and its kin: ~0.15 s of every `python main.py replay`)."""
    if __name__ == "__main__":
        return lambda function: function
    import functions_framework

    decorator: Callable[[_Entry], _Entry] = getattr(functions_framework, kind)
    return decorator


@_served_as("cloud_event")
def handle_alert(cloud_event: CloudEvent) -> None:
    """Pub/Sub-triggered entry point: returning acknowledges, raising asks Pub/Sub to redeliver."""
    from functions.entry.runtime import handle_cloud_event

    handle_cloud_event(cloud_event)


@_served_as("http")
def slack_actions(request: flask.Request) -> tuple[str, int, dict[str, str]]:
    """Slack's interactivity and `/sitrep` slash-command endpoint: signature first, answered within 3 s."""
    from functions.entry.slack_endpoint import handle_slack_request

    return handle_slack_request(request.get_data(cache=True), dict(request.headers))


def _emit_json(obj: Any) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"


def cmd_replay(args: argparse.Namespace) -> int:
    """Run the pipeline on a recorded incident directory and print (and optionally deliver) the card."""
    from functions.entry.replay import load_replay, run_replay
    from functions.entry.settings import Settings
    from functions.render import render

    settings = Settings.from_env(os.environ)
    replay = load_replay(Path(args.dir))
    result = run_replay(replay, settings)
    color = args.color == "always" or (args.color == "auto" and sys.stdout.isatty())
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        files = {
            "card.txt": render(result.card, "text", incident=result.incident),
            "card.md": render(result.card, "markdown", incident=result.incident),
            "slack.json": render(result.card, "slack", incident=result.incident),
            "analysis.json": render(result.card, "json", incident=result.incident),
        }
        for name, content in files.items():
            (out / name).write_text(content if isinstance(content, str) else _emit_json(content), encoding="utf-8")
    output = render(result.card, args.format, incident=result.incident, color=color)
    sys.stdout.write(output if isinstance(output, str) else _emit_json(output))
    for line in result.delivery_log:
        print(line, file=sys.stderr)
    return 1 if result.failed else 0


def cmd_classify(args: argparse.Namespace) -> int:
    """Classify log lines or LogEntry JSON; one JSON object per input on stdout."""
    from functions.entry.classify_cli import classify_stream

    source = args.file
    if source in (None, "-"):
        stream = sys.stdin
        for obj in classify_stream(stream, name="<stdin>"):
            sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
        return 0
    path = Path(source)
    if not path.is_file():
        raise InputError(f"{source}: no such file")
    with path.open(encoding="utf-8", errors="replace") as handle:
        for obj in classify_stream(handle, name=str(path)):
            sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    return 0


def cmd_sample_alert(args: argparse.Namespace) -> int:
    """Print a fresh sample notification for `gcloud pubsub topics publish TOPIC --message=...`."""
    from datetime import datetime, timezone

    from functions.entry.sample_alert import render_sample_alert

    now = datetime.now(timezone.utc)
    sys.stdout.write(
        render_sample_alert(project=args.project, service=args.service, policy=args.policy, state=args.state, now=now)
        + "\n"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python main.py",
        description="sitrep: explain a Cloud Monitoring alert from its logs and metrics, as an incident card.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    replay = sub.add_parser(
        "replay",
        help="analyse a recorded incident directory (alert.json, logs.json, optional metrics.json)",
        description=(
            "Run the same pipeline as the Cloud Function on recorded data. DIR holds alert.json "
            "(a Monitoring notification or the Pub/Sub CloudEvent carrying one), logs.json "
            "(`gcloud logging read --format=json` output) and optionally metrics.json (a timeSeries.list "
            "response or an array of them). Delivers to Slack / GitHub only when their settings are present."
        ),
    )
    replay.add_argument("dir", metavar="DIR", help="directory with alert.json, logs.json[, metrics.json]")
    replay.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    replay.add_argument("--out", metavar="OUTDIR", help="also write card.txt, card.md, slack.json, analysis.json here")
    replay.add_argument(
        "--color", choices=("auto", "always", "never"), default="auto", help="colour the text card (default: auto)"
    )
    replay.set_defaults(func=cmd_replay)
    classify = sub.add_parser(
        "classify",
        help="classify log lines (LogEntry JSON, JSON array, or plain text) one JSON object per input",
        description=(
            "Read LogEntry JSON (one per line, or a JSON array) or plain text lines from FILE or stdin and "
            'write one JSON object per input: {"category", "signature", "entities", "template_id", "template"}.'
        ),
    )
    classify.add_argument("file", nargs="?", metavar="FILE|-", help="input file (default: stdin)")
    classify.set_defaults(func=cmd_classify)
    sample = sub.add_parser(
        "sample-alert",
        help="print a fresh Cloud Monitoring notification to publish to the alert topic (smoke test)",
        description=(
            "Print a schema 1.2 notification that started a minute ago, for "
            'gcloud pubsub topics publish TOPIC --message="$(python main.py sample-alert --project P)". '
            "--state closed resolves the card the open one created."
        ),
    )
    sample.add_argument("--project", required=True, help="GCP project ID the notification names")
    sample.add_argument("--service", default="sitrep-smoke", help="Cloud Run service it names (default: sitrep-smoke)")
    sample.add_argument("--policy", default="sitrep smoke test", help="alert policy name (default: sitrep smoke test)")
    sample.add_argument("--state", choices=("open", "closed"), default="open", help="incident state (default: open)")
    sample.set_defaults(func=cmd_sample_alert)
    return parser


def cli(argv: Sequence[str] | None = None) -> int:
    """Command-line entry: user mistakes print one clear line and exit 2, never a traceback."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
        return code
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except SitrepError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(cli())
