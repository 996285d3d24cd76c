"""Provides the translate bot's notices as plain text and escaped HTML, in a given language."""

from __future__ import annotations

import html

from bots.translate.model import Prompt, Term
from messenger.i18n import N_, Translator

HOW_TO = N_(
    "Answer in this thread with !tr followed by the translation "
    "(e.g. “!tr sv: …” names the language)."
)


def language_name(code: str, t: Translator) -> str:
    """``da`` → ``Danish`` (en), ``danska`` (sv), from CLDR; the code itself when unknown."""
    name = t.locale.languages.get(code)
    return str(name) if name else code


def named(code: str, t: Translator) -> str:
    """``Danish (da)``."""
    return f"{language_name(code, t)} ({code})"


def named_list(codes: list[str], t: Translator) -> str:
    """``Swedish (sv), English (en)``."""
    return ", ".join(named(c, t) for c in codes)


def _e(text: str) -> str:
    return html.escape(text)


def format_pairs(items: list[tuple[str, str]]) -> str:
    """[("da", "sv")] → ``da>sv``."""
    return ", ".join(f"{a}>{b}" for a, b in items)


def glossary_lines(hits: list[Term], languages: list[str]) -> list[str]:
    """One line per term: ``Fjärilspartiet → en: Butterfly Party, da: Sommerfuglepartiet``."""
    out = []
    for term in hits:
        shown = [lang for lang in languages if lang in term.translations]
        shown = shown or list(term.translations)
        renderings = ", ".join(f"{lang}: {term.translations[lang]}" for lang in shown)
        out.append(f"{term.term} → {renderings}")
    return out


def _who(user: str, present: set[str], t: Translator) -> tuple[str, str]:
    """A volunteer as text and HTML: a pill when in the room, else marked absent."""
    if user in present:
        return user, f'<a href="https://matrix.to/#/{_e(user)}">{_e(user)}</a>'
    text = t.gettext("{user} (not in this room)").format(user=user)
    return text, _e(text)


def prompt(v: Prompt, hits: list[Term], t: Translator) -> tuple[str, str]:
    """The prompt card (in the room's language ``t``): who asked, volunteers, how to answer,
    glossary terms, machine drafts."""
    pairs = ", ".join(f"{v.source}>{target}" for target in v.targets)
    into = named_list(v.targets, t)
    if v.requested_by:
        head = t.gettext("🌐 {user} asks for this {source} message in {targets}.").format(
            user=v.requested_by, source=named(v.source, t), targets=into
        )
    else:
        head = t.gettext(
            "🌐 Translation wanted: this message looks {source}; the room works in {targets}."
        ).format(source=named(v.source, t), targets=into)
    lines, parts = [head], [f"<p>{_e(head)}</p>"]
    if v.translated:
        done = "; ".join(
            t.gettext("{language} by {user}").format(language=lang, user=who)
            for lang, who in v.translated.items()
        )
        line = t.gettext("✅ Translated: {done}.").format(done=done)
        lines.append(line)
        parts.append(f"<p>{_e(line)}</p>")
    if v.volunteers:
        present = set(v.present)
        shown = [_who(u, present, t) for u in v.volunteers]
        label = t.gettext("Volunteers for {pairs}:")
        lines.append(label.format(pairs=pairs) + " " + ", ".join(s for s, _h in shown))
        pills = ", ".join(h for _s, h in shown)
        parts.append(f"<p>{_e(label).format(pairs=f'<code>{_e(pairs)}</code>')} {pills}</p>")
    else:
        first = f"{v.source}>{v.targets[0]}" if v.targets else v.source
        msg = t.gettext(
            "No volunteer has declared {pairs} yet; declare one with !translator add {first}"
        ).format(pairs=pairs, first=first)
        lines.append(msg)
        parts.append(f"<p>{_e(msg)}</p>")
    how = t.gettext(HOW_TO)
    lines.append(how)
    parts.append(f"<p>{_e(how)}</p>")
    if hits:
        gl = glossary_lines(hits, [v.source, *v.targets])
        label = t.gettext("Glossary terms in this message:")
        lines += [label, *(f"  {g}" for g in gl)]
        items = "".join(f"<li>{_e(g)}</li>" for g in gl)
        parts.append(f"<p>{_e(label)}</p><ul>{items}</ul>")
    for target, draft in v.drafts.items():
        label = t.gettext(
            "Machine draft into {language} ({provider}, self-hosted; unchecked)"
        ).format(language=named(target, t), provider=v.provider)
        lines.append(f"{label}: {draft}")
        parts.append(f"<p><i>{_e(label)}</i>:</p><blockquote>{_e(draft)}</blockquote>")
    for note in v.notes:
        lines.append(f"⚠ {note}")
        parts.append(f"<p>⚠ {_e(note)}</p>")
    return "\n".join(lines), "".join(parts)


def translation(
    text: str,
    target: str,
    t: Translator,
    *,
    translator: str | None,
    machine: str | None = None,
    reused_from: str | None = None,
    kept_missing: list[str] | None = None,
) -> tuple[str, str]:
    """A translation notice: who (or which engine) translated, then the text."""
    if machine:
        what = t.gettext(
            "machine translation ({provider}, self-hosted; this room opted in with !mt on)"
        ).format(provider=machine)
    elif reused_from:
        what = t.gettext("translation from translation memory (first translated by {user})").format(
            user=reused_from
        )
    else:
        what = t.gettext("translation by {user} (volunteer)").format(user=translator)
    head = f"🌐 {named(target, t)} {what}:"
    body = [head, text]
    html_body = f"<p>🌐 <b>{_e(named(target, t))}</b> {_e(what)}:</p>"
    html_body += f"<blockquote>{_e(text).replace(chr(10), '<br/>')}</blockquote>"
    if kept_missing:
        note = t.gettext(
            "Glossary: the engine dropped {terms}; the organisation uses these renderings"
        ).format(terms=", ".join(kept_missing))
        body.append(note)
        html_body += f"<p>{_e(note)}</p>"
    return "\n".join(body), html_body


def listing(title: str, rows: list[str], empty: str) -> tuple[str, str]:
    """A titled list (``title`` and ``empty`` already translated)."""
    if not rows:
        return f"{title}\n{empty}", f"<p><b>{_e(title)}</b></p><p>{_e(empty)}</p>"
    items = "".join(f"<li>{_e(r)}</li>" for r in rows)
    text = "\n".join([title, *(f"  {r}" for r in rows)])
    return text, f"<p><b>{_e(title)}</b></p><ul>{items}</ul>"
