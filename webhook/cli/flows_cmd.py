"""``aiguillage flows``: check the flow files, or draw their diagrams."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.settings import load_settings
from flows.catalogue import Catalogue, CatalogueError, load_catalogue
from flows.flow import Flow
from flows.flow_loader import FlowError, flow_files, load_flow_file
from flows.graph import to_dot, to_mermaid
from webhook.cli._errors import CliError
from webhook.cli._output import emit, emit_error

DRAWERS = {"mermaid": (to_mermaid, ".mmd"), "dot": (to_dot, ".dot")}


def register(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="flows_action", required=True, metavar="ACTION")
    check = actions.add_parser("check", help="validate every flow file and the catalogue")
    graph = actions.add_parser("graph", help="print (or --write) the diagram of the flows")
    for action in (check, graph):
        action.add_argument(
            "--dir",
            type=Path,
            help="folder of the flow files (default: AIGUILLAGE_FLOWS_DIR, or the shipped ones)",
        )
    graph.add_argument("flow_id", nargs="?", metavar="FLOW_ID", help="one flow (default: all)")
    graph.add_argument("--format", choices=sorted(DRAWERS), default="mermaid")
    graph.add_argument(
        "--write", action="store_true", help="write <flow file>.mmd (or .dot) beside each flow"
    )
    check.set_defaults(handler=run_check)
    graph.set_defaults(handler=run_graph)


def _fail(problems: list[str], what: str) -> CliError:
    # CliError prints a single line, so the problems themselves go to stderr first.
    for problem in problems:
        emit_error(problem)
    count = len(problems)
    return CliError(f"{count} problem{'s' if count > 1 else ''} in {what}")


def load_all(directory: Path) -> dict[Path, Flow]:
    """Every flow file of a folder, validated; every problem of every file is printed."""
    paths = flow_files(directory)
    if not paths:
        raise CliError(f"no flow file (*.yaml) in {directory}")
    flows: dict[Path, Flow] = {}
    problems: list[str] = []
    for path in paths:
        try:
            flows[path] = load_flow_file(path)
        except FlowError as error:
            problems += error.problems
    seen: dict[str, Path] = {}
    for path, flow in flows.items():
        if flow.id in seen:
            problems.append(
                f"{path.name}: flow id '{flow.id}' is also used by {seen[flow.id].name}"
            )
        seen.setdefault(flow.id, path)
    if problems:
        raise _fail(problems, "flow files")
    return flows


def check_flows_and_catalogue(directory: Path) -> tuple[dict[Path, Flow], Catalogue]:
    """The flows and the catalogue, valid; otherwise every problem printed, then CliError.

    ``serve``, ``chat`` and ``bot`` run it first: a broken file stops them as ``flows check``
    reports it, one line per problem, rather than with a traceback.
    """
    flows = load_all(directory)
    try:
        catalogue = load_catalogue()
    except CatalogueError as error:
        raise _fail(str(error).splitlines(), "the catalogue") from None
    return flows, catalogue


def _directory(args: argparse.Namespace) -> Path:
    given: Path | None = args.dir
    return given or load_settings().flow_folder


def run_check(args: argparse.Namespace) -> int:
    flows, catalogue = check_flows_and_catalogue(_directory(args))
    for flow in flows.values():
        emit(f"ok: {flow.id} (version {flow.pinned_version}, {len(flow.steps)} steps)")
    emit(f"ok: catalogue ({len(catalogue.programmes)} programmes, {len(catalogue.sites)} sites)")
    return 0


def run_graph(args: argparse.Namespace) -> int:
    flows = load_all(_directory(args))
    if args.flow_id is not None:
        known = sorted(flow.id for flow in flows.values())
        if args.flow_id not in known:
            raise CliError(f"unknown flow '{args.flow_id}' (known: {', '.join(known)})")
        flows = {path: flow for path, flow in flows.items() if flow.id == args.flow_id}
    draw, suffix = DRAWERS[args.format]
    for index, (path, flow) in enumerate(flows.items()):
        diagram = draw(flow)
        if args.write:
            target = path.with_suffix(suffix)
            target.write_text(diagram, encoding="utf-8")
            emit(str(target))
        else:
            emit(("\n" if index else "") + diagram.rstrip("\n"))
    return 0
