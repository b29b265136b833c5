"""``aiguillage orient``: print the orientation of a profile file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pydantic import ValidationError

from flows.i18n import LANGUAGES
from flows.profile import Profile
from flows.rules import orient
from webhook.cli._errors import CliError
from webhook.cli._output import emit_json


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", required=True, help="profile JSON file, or - for stdin")
    parser.add_argument("--lang", choices=LANGUAGES, default="fr", help="language of reasons")
    parser.set_defaults(handler=run)


def describe_validation_error(error: ValidationError) -> str:
    """One line naming each wrong field and what is expected."""
    parts = []
    for item in error.errors():
        field = ".".join(str(p) for p in item["loc"]) or "profile"
        message = str(item["msg"]).removeprefix("Value error, ")
        parts.append(f"{field}: {message}")
    return "; ".join(parts)


def read_profile(source: str) -> Profile:
    """Parse and validate a profile from a path or stdin."""
    try:
        raw = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as error:
        raise CliError(f"cannot read {source}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise CliError(f"{source}: not UTF-8 text") from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as error:
        raise CliError(f"{source}: not valid JSON ({error.msg}, line {error.lineno})") from None
    if not isinstance(data, dict):
        raise CliError(f"{source}: expected a JSON object with the profile fields")
    try:
        return Profile.model_validate(data)
    except ValidationError as error:
        raise CliError(describe_validation_error(error)) from None


def run(args: argparse.Namespace) -> int:
    profile = read_profile(args.profile)
    emit_json(orient(profile, language=args.lang).model_dump(mode="json"))
    return 0
