"""Text out of attached files: text, Markdown, PDF, DOCX, ODT; damaged and unknown ones refused
with a reason (pure)."""

from __future__ import annotations

import io
import zipfile

import pytest

from bots.library.extract import Unreadable, kind_of, text_of
from tests.bots.library.support import docx_bytes


def pdf_bytes(text: str) -> bytes:
    """A one-page PDF whose content stream shows ``text`` (Helvetica), with its xref table."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % n + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def odt_bytes(*paragraphs: str) -> bytes:
    ns = (
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
    )
    body = "".join(f"<text:p>{p}</text:p>" for p in paragraphs)
    xml = (
        f"<office:document-content {ns}><office:body><office:text><text:h>Rubrik</text:h>"
        f"{body}</office:text></office:body></office:document-content>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", xml)
    return out.getvalue()


def test_formats_by_suffix_then_declared_type() -> None:
    assert kind_of("a.MD", None) == "text/markdown"
    assert kind_of("noname", "application/pdf") == "application/pdf"
    assert kind_of("photo.png", "image/png") is None


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        ("Välkommen till **valet**".encode(), "a.md", "Välkommen till **valet**"),
        ("\ufeffHej".encode(), "a.txt", "Hej"),
        (docx_bytes("Første afsnit", "Andet afsnit"), "a.docx", "Første afsnit\nAndet afsnit"),
        (odt_bytes("Første avsnitt"), "a.odt", "Rubrik\nFørste avsnitt"),
        (pdf_bytes("Kommunalvalget 2027"), "a.pdf", "Kommunalvalget 2027"),
    ],
    ids=["md", "txt", "docx", "odt", "pdf"],  # generated files differ per run (pytest-xdist)
)
def test_text_of_each_format(data: bytes, name: str, expected: str) -> None:
    assert text_of(data, name, None) == expected


@pytest.mark.parametrize(
    ("data", "name", "reason"),
    [
        (b"\x89PNG....", "a.png", "format"),
        (b"\xff\xfe\xe5", "a.txt", "UTF-8"),
        (b"PK\x03\x04junk", "a.docx", "damaged"),
        (b"%PDF-1.4 junk", "a.pdf", "damaged"),
        (b"not a zip", "a.odt", "damaged"),
        (b"   \n ", "a.txt", "no text"),
    ],
    ids=["png", "latin1", "docx", "pdf", "odt", "blank"],
)
def test_unreadable_files_say_why(data: bytes, name: str, reason: str) -> None:
    with pytest.raises(Unreadable) as e:
        text_of(data, name, None)
    assert reason in e.value.reason
