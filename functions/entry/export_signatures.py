"""Command line: validate the failure signatures and write (or check) their Terraform export.

`python -m functions.entry.export_signatures --terraform` regenerates
`terraform/modules/sitrep/signatures.json`; `--check` fails instead when it is stale (CI and a test run it).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from functions.analysis.classify.signature_files import DEFAULT_PATH, load_signatures
from functions.analysis.classify.signatures import SignatureError
from functions.analysis.classify.terraform import GENERATED_BY, check_terraform_json, render_terraform_json

REPO_ROOT = Path(__file__).resolve().parents[2]
TERRAFORM_JSON_PATH = REPO_ROOT / "terraform" / "modules" / "sitrep" / "signatures.json"


def main(argv: Sequence[str] | None = None) -> int:
    """`--terraform` writes the Terraform export, `--check` verifies it instead; exit 2 on invalid signatures."""
    parser = argparse.ArgumentParser(
        prog="python -m functions.entry.export_signatures",
        description="Failure signatures: load, validate and compile them; export them for Terraform.",
    )
    parser.add_argument("--terraform", action="store_true", help="write (or check) the Terraform export")
    parser.add_argument("--check", action="store_true", help="fail if the export is stale instead of writing it")
    parser.add_argument("--signatures", type=Path, default=DEFAULT_PATH, help="signatures folder (or one YAML file)")
    parser.add_argument("--out", type=Path, default=TERRAFORM_JSON_PATH, help="Terraform JSON path")
    args = parser.parse_args(argv)
    try:
        signatures = load_signatures(args.signatures)
    except SignatureError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.terraform:
        alerting = sum(1 for s in signatures if s.alert is not None)
        print(f"{len(signatures)} signatures valid ({alerting} with alerts)")
        return 0
    if args.check:
        committed = args.out.read_text(encoding="utf-8") if args.out.exists() else None
        problems = check_terraform_json(signatures, committed, str(args.out))
        for problem in problems:
            print(f"stale: {problem}", file=sys.stderr)
        if problems:
            print(f"run: {GENERATED_BY}", file=sys.stderr)
            return 1
        print(f"{args.out} is up to date")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render_terraform_json(signatures), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
