"""Provides the text of an attached file: plain text and Markdown, PDF (pypdf), DOCX
(python-docx) and ODT (its ``content.xml``, read with the standard library).

Anything it cannot read raises ``Unreadable`` with a catalogue message saying why; nothing is
written anywhere (the bytes stay in memory).
"""

from __future__ import annotations

import io
import logging
import zipfile
from xml.etree import ElementTree

from messenger.i18n import N_

log = logging.getLogger(__name__)

MAX_XML_BYTES = 50 * 1024 * 1024  # uncompressed content.xml: a zip bomb stops here
ODF_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
TEXT_TYPES = {"text/plain", "text/markdown", "text/x-markdown"}
PDF, DOCX, ODT = (
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.oasis.opendocument.text",
)
SUFFIXES = {
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".pdf": PDF,
    ".docx": DOCX,
    ".odt": ODT,
}
FORMATS = "text, Markdown, PDF, DOCX, ODT"


class Unreadable(Exception):
    """The file's text cannot be read; ``reason`` is a catalogue msgid."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def kind_of(name: str, mimetype: str | None) -> str | None:
    """The format a file is in, by its name's suffix, else its declared type."""
    lowered = name.lower()
    for suffix, kind in SUFFIXES.items():
        if lowered.endswith(suffix):
            return kind
    m = (mimetype or "").split(";")[0].strip().lower()
    return m if m in {*TEXT_TYPES, PDF, DOCX, ODT} else None


def text_of(data: bytes, name: str, mimetype: str | None) -> str:
    """The file's text; ``Unreadable`` when it has none this bot can read."""
    kind = kind_of(name, mimetype)
    if kind is None:
        raise Unreadable(
            N_("this file's format cannot be read; send text, Markdown, PDF, DOCX or ODT")
        )
    try:
        if kind in TEXT_TYPES:
            text = _plain(data)
        elif kind == PDF:
            text = _pdf(data)
        elif kind == DOCX:
            text = _docx(data)
        else:
            text = _odt(data)
    except Unreadable:
        raise
    except Exception as e:  # noqa: BLE001 - a malformed file from the network must not crash
        log.info("could not read %s (%s): %s: %s", name, kind, e.__class__.__name__, e)
        raise Unreadable(
            N_("the file is damaged or not what its name says; nothing was stored")
        ) from None
    text = text.strip()
    if not text:
        raise Unreadable(N_("the file holds no text I can read (a scanned PDF has only images)"))
    return text


def _plain(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Unreadable(
            N_("the text file is not UTF-8; save it as UTF-8 and send it again")
        ) from None


def _pdf(data: bytes) -> str:
    from pypdf import PdfReader  # imported when a PDF arrives: a quarter second off every start

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        raise Unreadable(N_("the PDF is password-protected; send it without a password"))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def _docx(data: bytes) -> str:
    from docx import Document  # as pypdf: only when a DOCX arrives

    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(parts)


def _odt(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo("content.xml")
        if info.file_size > MAX_XML_BYTES:
            raise Unreadable(N_("the document is too large to read"))
        root = ElementTree.fromstring(z.read(info))
    out = []
    for el in root.iter():
        if el.tag in (f"{{{ODF_TEXT}}}p", f"{{{ODF_TEXT}}}h"):
            out.append("".join(el.itertext()))
    return "\n".join(out)
