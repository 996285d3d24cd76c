"""Provides the translate bot's notices as plain text and escaped HTML."""

from __future__ import annotations

import html
from functools import cache

from bots.translate.model import Prompt, Term

HOW_TO = "Answer in this thread with !tr <translation> (e.g. “!tr sv: …” names the language)."


NAMES = {"nb": "Norwegian Bokmål", "nn": "Norwegian Nynorsk"}
"""Names lingua spells without their letters (BOKMAL, NYNORSK)."""


@cache
def language_name(code: str) -> str:
    """``da`` → ``Danish``; the code itself when lingua does not name it."""
    if code in NAMES:
        return NAMES[code]
    try:
        from lingua import IsoCode639_1, Language

        return Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())).name.title()
    except (AttributeError, ValueError):
        return code


def named(code: str) -> str:
    """``Danish (da)``."""
    return f"{language_name(code)} ({code})"


def _e(text: str) -> str:
    return html.escape(text)


def format_pairs(items: list[tuple[str, str]]) -> str:
    """[("da", "sv")] → ``da>sv``."""
    return ", ".join(f"{a}>{b}" for a, b in items)


def glossary_lines(hits: list[Term], languages: list[str]) -> list[str]:
    """One line per term: ``Fjärilspartiet → en: Butterfly Party, da: Sommerfuglepartiet``."""
    out = []
    for t in hits:
        shown = [lang for lang in languages if lang in t.translations] or list(t.translations)
        renderings = ", ".join(f"{lang}: {t.translations[lang]}" for lang in shown)
        out.append(f"{t.term} → {renderings}")
    return out


def prompt(v: Prompt, hits: list[Term]) -> tuple[str, str]:
    """The prompt's text and HTML: who asked, volunteers, how to answer, terms, drafts."""
    pairs = ", ".join(f"{v.source}>{t}" for t in v.targets)
    into = ", ".join(named(t) for t in v.targets)
    if v.requested_by:
        head = f"🌐 {v.requested_by} asks for this {named(v.source)} message in {into}."
    else:
        head = (
            f"🌐 Translation wanted: this message looks {named(v.source)}; "
            f"the room works in {into}."
        )
    lines, parts = [head], [f"<p>{_e(head)}</p>"]
    if v.translated:
        done = "; ".join(f"{t} by {who}" for t, who in v.translated.items())
        lines.append(f"✅ Translated: {done}.")
        parts.append(f"<p>✅ Translated: {_e(done)}.</p>")
    if v.volunteers:
        names = ", ".join(u if u in v.present else f"{u} (not in this room)" for u in v.volunteers)
        pills = ", ".join(
            f'<a href="https://matrix.to/#/{_e(u)}">{_e(u)}</a>'
            if u in v.present
            else f"{_e(u)} (not in this room)"
            for u in v.volunteers
        )
        lines.append(f"Volunteers for {pairs}: {names}")
        parts.append(f"<p>Volunteers for <code>{_e(pairs)}</code>: {pills}</p>")
    else:
        first = f"{v.source}>{v.targets[0]}" if v.targets else v.source
        msg = f"No volunteer has declared {pairs} yet; declare one with !translator add {first}"
        lines.append(msg)
        parts.append(f"<p>{_e(msg)}</p>")
    lines.append(HOW_TO)
    parts.append(f"<p>{_e(HOW_TO)}</p>")
    if hits:
        gl = glossary_lines(hits, [v.source, *v.targets])
        lines += ["Glossary terms in this message:", *(f"  {g}" for g in gl)]
        items = "".join(f"<li>{_e(g)}</li>" for g in gl)
        parts.append(f"<p>Glossary terms in this message:</p><ul>{items}</ul>")
    for target, draft in v.drafts.items():
        label = f"Machine draft into {target} ({v.provider}, self-hosted; unchecked)"
        lines.append(f"{label}: {draft}")
        parts.append(f"<p><i>{_e(label)}</i>:</p><blockquote>{_e(draft)}</blockquote>")
    for note in v.notes:
        lines.append(f"⚠ {note}")
        parts.append(f"<p>⚠ {_e(note)}</p>")
    return "\n".join(lines), "".join(parts)


def translation(
    text: str,
    target: str,
    *,
    translator: str | None,
    machine: str | None = None,
    reused_from: str | None = None,
    kept_missing: list[str] | None = None,
) -> tuple[str, str]:
    """A translation notice: who (or which engine) translated, then the text."""
    if machine:
        what = f"machine translation ({machine}, self-hosted; this room opted in with !mt on)"
    elif reused_from:
        what = f"translation from translation memory (first translated by {reused_from})"
    else:
        what = f"translation by {translator} (volunteer)"
    head = f"🌐 {named(target)} {what}:"
    body = [head, text]
    html_body = f"<p>🌐 <b>{_e(named(target))}</b> {_e(what)}:</p>"
    html_body += f"<blockquote>{_e(text).replace(chr(10), '<br/>')}</blockquote>"
    if kept_missing:
        note = (
            "Glossary: the engine dropped " + ", ".join(kept_missing) + "; the organisation "
            "uses these renderings"
        )
        body.append(note)
        html_body += f"<p>{_e(note)}</p>"
    return "\n".join(body), html_body


def listing(title: str, rows: list[str], empty: str) -> tuple[str, str]:
    """A titled list."""
    if not rows:
        return f"{title}\n{empty}", f"<p><b>{_e(title)}</b></p><p>{_e(empty)}</p>"
    items = "".join(f"<li>{_e(r)}</li>" for r in rows)
    text = "\n".join([title, *(f"  {r}" for r in rows)])
    return text, f"<p><b>{_e(title)}</b></p><ul>{items}</ul>"
