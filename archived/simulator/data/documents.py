"""Small, valid, deterministic documents for seeded files (PDF reports, scripts, scans).

The PDFs have the same shape as the one recorded from the real site: one page, Helvetica, a few lines.
"""

from __future__ import annotations

from importlib import resources


def _pdf_escape(line: str) -> str:
    ascii_line = line.encode("ascii", errors="replace").decode("ascii")
    return ascii_line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(lines: list[str], size: int | None = None) -> bytes:
    """A one-page PDF 1.4 showing `lines` (non-ASCII characters become `?`).

    With `size`, the last line is padded with spaces so the file has exactly that many bytes (the recorded
    site's files have known sizes).
    """
    document = _pdf(lines)
    if size is None or len(document) >= size:
        return document
    padded = list(lines)
    while len(document) < size:
        padded[-1] += " " * max(1, size - len(document))
        document = _pdf(padded)
        if len(document) > size:
            padded[-1] = padded[-1][:-1]
            document = _pdf(padded)
            break
    return document


def _pdf(lines: list[str]) -> bytes:
    text = "BT /F1 12 Tf 72 760 Td 16 TL\n" + "".join(f"({_pdf_escape(line)}) '\n" for line in lines) + "ET"
    stream = text.encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n".encode() + b"0000000000 65535 f \n"
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def asset(name: str) -> bytes:
    """Bytes of a file shipped in `archived/simulator/assets/` (`name` may contain `/`)."""
    return resources.files("archived.simulator").joinpath("assets", *name.split("/")).read_bytes()


def trapezoid_script() -> bytes:
    """The small Python script one student attached to the lab report (164 bytes, like the recorded one)."""
    return (
        b"def trapez(f, a, b, n):\n"
        b"    h = (b - a) / n\n"
        b"    return h * (f(a) / 2 + sum(f(a + i * h) for i in range(1, n)) + f(b) / 2)\n\n"
        b"print(trapez(lambda x: x * x, 0, 1, 10))\n"
    )
