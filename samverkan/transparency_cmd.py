"""Provides ``samverkan transparency report --period 2026-Q4 [--format md|html|pdf] [--out FILE]``.

Reads the resources bot's ledger and room markers (``samverkan ledger``'s reader) and the
shared indexes of projects and public lessons from the deployment store, verifies the
ledger, and writes a document fit to publish (see ``samverkan.transparency``).
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from pathlib import Path

from markdown_it import MarkdownIt

from samverkan.transparency import DENIAL_CATEGORIES, Figures, compute

MD_SPECIAL = str.maketrans({c: f"\\{c}" for c in "\\`*_{}[]<>()#+-.!|"})
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def md_text(text: str) -> str:
    """Text that Markdown shows as written."""
    return text.translate(MD_SPECIAL)


def markdown(fig: Figures) -> str:
    """The report as Markdown."""
    last = fig.end.toordinal() - 1
    out = [
        f"# Transparency report: {md_text(fig.organisation)}, {fig.period}",
        "",
        f"Period {fig.start.isoformat()} to {datetime.fromordinal(last).date().isoformat()} "
        f"(UTC), generated {datetime.now(UTC).date().isoformat()}. Figures come from the "
        "signed resources ledger; amounts in their unit (SEK, EUR, hours, items).",
        "",
        "## Resources",
        "",
    ]
    if fig.flows:
        out += [
            "| group | kind | unit | pooled | granted | spent | released |",
            "|---|---|---|---:|---:|---:|---:|",
        ]
        for (group, kind, unit), f in fig.flows.items():
            amounts = " | ".join(fig.amount(v) for v in (f.pooled, f.granted, f.spent, f.released))
            out.append(f"| {md_text(group)} | {kind} | {unit} | {amounts} |")
    else:
        out.append("No resources were pooled, granted or spent in this period.")
    d = fig.decisions
    decided = d["approved"] + d["denied"]
    median = "—" if fig.median_hours is None else f"{fig.median_hours:.1f} hours"
    out += [
        "",
        "## Decisions",
        "",
        f"- requests made: {d['requested']}",
        f"- approved: {d['approved']}; denied: {d['denied']}; fulfilled: {d['fulfilled']}; "
        f"withdrawn: {d['withdrawn']}",
        f"- median time from request to decision: {median} ({decided} decisions)",
        "",
        "### Denials by stated reason",
        "",
    ]
    if fig.denials:
        out += ["| reason | denials |", "|---|---:|"]
        for category in (*DENIAL_CATEGORIES, "other"):
            if fig.denials[category]:
                out.append(f"| {category} | {fig.denials[category]} |")
    else:
        out.append("No request was denied in this period.")
    out += ["", "## Impact", ""]
    if fig.projects:
        for p in fig.projects:
            sdg = f"; SDG {', '.join(map(str, p['sdg']))}" if p["sdg"] else ""
            state = "closed" if p["closed"] else md_text(p["status"])
            out += ["", f"### {md_text(p['title'])} ({state}{sdg})", ""]
            if p["metrics"]:
                out += ["| measure | target | reached | unit |", "|---|---:|---:|---|"]
                for m in p["metrics"]:
                    cells = [md_text(m[k]) for k in ("name", "target", "value", "unit")]
                    out.append("| " + " | ".join(cells) + " |")
    else:
        out.append("No project figures have been recorded.")
    out += ["", "## Lessons learned", ""]
    out += [f"- {md_text(t)}" for t in fig.lessons] or ["No lesson was published in this period."]
    out += ["", "## Check these figures", ""]
    if fig.head:
        out.append(
            f"The resources ledger holds {fig.entries} signed entries; its head is "
            f"`{fig.head}` and its Ed25519 key `{fig.key}`. Anyone given an export "
            "(`samverkan ledger export FILE`) can verify every signature and recount: "
            f"`samverkan ledger verify FILE --key {fig.key} --head {fig.head}`."
        )
    else:
        out.append("The resources ledger has no entries yet: there is nothing to check.")
    out.append("")
    return "\n".join(out)


def html_page(fig: Figures, md: str) -> str:
    """The report as one self-contained HTML page (raw HTML in the Markdown is not passed)."""
    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(md)
    title = f"Transparency report {fig.period}"
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>body{{font-family:sans-serif;max-width:60em;"
        "margin:2em auto}table{border-collapse:collapse}td,th{border:1px solid #999;"
        "padding:.2em .5em}code{word-break:break-all}</style></head><body>\n"
        f"{body}</body></html>\n"
    )


def pdf_bytes(md: str) -> bytes:
    """The report as PDF (fpdf2; DejaVu Sans when installed, else the core font)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_auto_page_break(True, 15)
    pdf.add_page()
    family = "Helvetica"
    if FONT.is_file():
        pdf.add_font("DejaVu", "", str(FONT))
        family = "DejaVu"
    for raw in md.splitlines():
        line = raw.replace("\\", "").replace("`", "")
        if family == "Helvetica":
            line = line.encode("latin-1", "replace").decode("latin-1")
        size = 16 if line.startswith("# ") else 13 if line.startswith("#") else 10
        if set(line.replace("|", "").strip()) <= set("-: "):
            if line.strip():
                continue  # a table's rule line
        pdf.set_font(family, size=size)
        pdf.multi_cell(0, 6 if size == 10 else 9, line.lstrip("# ") or " ", new_x="LMARGIN",
                       new_y="NEXT")  # fmt: skip
    return bytes(pdf.output())


async def build(args: argparse.Namespace) -> tuple[Figures, str]:
    """Read, verify and count."""
    from bots.resources.book import verify_stored
    from messenger.botkit.shared import LIBRARY_PUBLIC_NS, PROJECTS_NS
    from messenger.deploy.deployment import Deployment
    from messenger.session.statecache import NS as ROOM_STATE_NS
    from samverkan.context import UsageProblem, settings_for
    from samverkan.ledger_cmd import read_bot_ledger

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
    return fig, markdown(fig)


async def cmd_report(args: argparse.Namespace) -> int:
    """``samverkan transparency report``."""
    fig, md = await build(args)
    fmt = args.format or (args.out.suffix.lstrip(".") if args.out else "md")
    data: bytes
    if fmt == "md":
        data = md.encode()
    elif fmt == "html":
        data = html_page(fig, md).encode()
    else:
        data = await asyncio.to_thread(pdf_bytes, md)
    out = args.out or Path(f"transparency-{fig.period}.{fmt}")
    await asyncio.to_thread(out.write_bytes, data)
    print(f"wrote {out} ({fmt}, {len(data)} bytes); ledger head {fig.head or '(empty)'}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``transparency report``."""
    p = sub.add_parser("transparency", help="documents fit to publish (no personal data)")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    rep = actions.add_parser("report", help="resources, decisions, impact, lessons of a period")
    rep.add_argument("--period", required=True, help="2026-Q4, 2026-11 or 2026")
    rep.add_argument("--format", choices=["md", "html", "pdf"], help="default: from --out, or md")
    rep.add_argument("--out", type=Path, help="file to write (default transparency-PERIOD.FMT)")
    rep.add_argument("--config", type=Path, default=Path("org.toml"), help="organisation file")
    rep.set_defaults(func=cmd_report)
