"""Provides ``samverkan transparency report --period 2026-Q4 [--format md|html|pdf]
[--lang sv] [--out FILE]``.

Reads the resources bot's ledger and room markers (``samverkan ledger``'s reader) and the
shared indexes of projects and public lessons from the deployment store, verifies the
ledger, and writes a document fit to publish (figures: ``samverkan.transparency``; the
document in a language: ``samverkan.transparency_doc``). What the CLI tells the operator
stays English; the document is in ``--lang``, else the organisation's first working language
that has a catalogue.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Iterable
from pathlib import Path

from messenger.i18n import SOURCE, Translator, available, normalise, translator
from samverkan.transparency import Figures, compute


def report_language(chosen: str | None, languages: Iterable[str]) -> str:
    """``--lang`` when given (an unknown code is refused, naming the available ones), else the
    first of ``languages`` (the organisation's) that has a catalogue, else English."""
    from samverkan.context import UsageProblem

    if chosen is not None:
        found = normalise(chosen)
        if found is None:
            raise UsageProblem(
                f"--lang: no catalogue for {chosen.strip()!r}; "
                f"choose one of {', '.join(available())}, e.g. --lang sv"
            )
        return found
    return next((f for f in map(normalise, languages) if f is not None), SOURCE)


async def build(args: argparse.Namespace) -> tuple[Figures, Translator, str]:
    """Read, verify and count; the Markdown in the report's language."""
    from bots.resources.book import verify_stored
    from messenger.botkit.shared import LIBRARY_PUBLIC_NS, PROJECTS_NS
    from messenger.deploy.deployment import Deployment
    from messenger.session.statecache import NS as ROOM_STATE_NS
    from samverkan.context import UsageProblem, settings_for
    from samverkan.ledger_cmd import read_bot_ledger
    from samverkan.transparency_doc import markdown

    settings = settings_for(args)
    key, entries, docs = await read_bot_ledger(settings, (ROOM_STATE_NS,))
    deployment = await Deployment.open(settings)
    try:
        projects = [v for _k, v in await deployment.store.items(PROJECTS_NS)]
        library = [v for _k, v in await deployment.store.items(LIBRARY_PUBLIC_NS)]
    finally:
        await deployment.store.close()
    markers = {
        room: str(v["marker"]["slug"])
        for room, v in docs[ROOM_STATE_NS]
        if isinstance(v, dict) and isinstance(v.get("marker"), dict) and v["marker"].get("slug")
    }
    try:
        fig = compute(settings.org, args.period, entries, markers, projects, library)
    except ValueError as e:
        raise UsageProblem(f"--period: {e}") from None
    if key is not None and entries:
        fig.head = await verify_stored(entries, key)  # a broken ledger fails here (exit 2)
        fig.key, fig.entries = key.to_base64(), len(entries)
    t = translator(report_language(args.lang, settings.org.organisation.languages))
    return fig, t, markdown(fig, t)


async def cmd_report(args: argparse.Namespace) -> int:
    """``samverkan transparency report``."""
    from samverkan.transparency_doc import html_page, pdf_bytes

    report_language(args.lang, ())  # an unknown --lang is refused before the passphrase
    fig, t, md = await build(args)
    fmt = args.format or (args.out.suffix.lstrip(".") if args.out else "md")
    data: bytes
    if fmt == "md":
        data = md.encode()
    elif fmt == "html":
        data = html_page(fig, md, t).encode()
    else:
        data = await asyncio.to_thread(pdf_bytes, fig, md, t)
    out = args.out or Path(f"transparency-{fig.period}.{fmt}")
    await asyncio.to_thread(out.write_bytes, data)
    head = fig.head or "(empty)"
    print(f"wrote {out} ({fmt}, {t.lang}, {len(data)} bytes); ledger head {head}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``transparency report``."""
    p = sub.add_parser("transparency", help="documents fit to publish (no personal data)")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    rep = actions.add_parser("report", help="resources, decisions, impact, lessons of a period")
    rep.add_argument("--period", required=True, help="2026-Q4, 2026-11 or 2026")
    rep.add_argument("--format", choices=["md", "html", "pdf"], help="default: from --out, or md")
    rep.add_argument(
        "--lang",
        help="language of the document: sv, da, nb, en … "
        "(default: the organisation's first working language that has a catalogue)",
    )
    rep.add_argument("--out", type=Path, help="file to write (default transparency-PERIOD.FMT)")
    rep.add_argument("--config", type=Path, default=Path("org.toml"), help="organisation file")
    rep.set_defaults(func=cmd_report)
