"""Score pictures: MusicXML -> SVG pages (verovio), -> PNG (cairosvg) or PDF (cairosvg + pypdf).

A ``.pdf``, ``.svg`` or ``.png`` output engraves the lead sheet (melody and chord symbols);
``NAME.score.pdf`` (``.svg``, ``.png``) engraves every part. Verovio lays out A4 pages; an SVG
or PNG output is the pages one below the other (one file), a PDF has one page per page.
cairosvg needs the cairo library (Debian ``libcairo2``); verovio brings its own music font.
"""

from __future__ import annotations

import functools
import io
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from composer.render.tools import MissingTool

INSTALL = "make render-deps (or: apt-get install libcairo2)"
PAGE = {"pageWidth": 2100, "pageHeight": 2970}  # A4 in verovio's tenths of a millimetre
OPTIONS = {
    **PAGE,
    "scale": 45,
    "pageMarginLeft": 80,
    "pageMarginRight": 80,
    "pageMarginTop": 80,
    "pageMarginBottom": 80,
    "footer": "none",
    "breaks": "auto",
    "adjustPageHeight": True,  # the last page is as tall as its music
    "header": "auto",
}
PNG_WIDTH = 1400  # pixels: a page readable on a screen


# Verovio writes the accidentals of chord symbols and the note of a metronome mark as SMuFL
# glyphs of its own music font, which it names in CSS but only a browser loads; cairo draws
# them as empty boxes. Such glyphs (read by name from the font table verovio ships) become the
# Unicode music symbols, which DejaVu (Debian's default fonts) has.
_UNICODE_BY_GLYPH_WORD = (
    ("DoubleFlat", "𝄫"),
    ("DoubleSharp", "𝄪"),
    ("Flat", "♭"),
    ("Sharp", "♯"),
    ("Natural", "♮"),
    ("metNoteQuarter", "♩"),
    ("metNote8th", "♪"),
    ("metNoteHalf", "𝅗𝅥"),
    ("metAugmentationDot", "."),
)
_TEXT_GLYPH = re.compile(r'<tspan font-family="Leipzig"([^>]*)>([^<]*)</tspan>')


@functools.cache
def _glyph_names() -> dict[str, str]:
    """SMuFL code point -> glyph name, from verovio's table of its default font."""
    import verovio

    table = Path(verovio.__file__).parent / "data" / "Leipzig.xml"
    text = table.read_text(encoding="utf-8")
    return {chr(int(c, 16)): n for c, n in re.findall(r'<g c="([0-9A-F]+)"[^>]*n="([^"]+)"', text)}


def _as_unicode(glyphs: str) -> str:
    out = []
    for ch in glyphs:
        name = _glyph_names().get(ch, "")
        out.append(next((u for word, u in _UNICODE_BY_GLYPH_WORD if word in name), ch))
    return "".join(out)


def _text_font(match: re.Match[str]) -> str:
    attrs, glyphs = match[1], match[2]
    if any(_glyph_names().get(ch, "").startswith("met") for ch in glyphs):
        # a metronome mark's note: verovio sizes the music font's glyph, far larger than a
        # text font's; at the text's size the note and its dot read as one symbol
        size = re.search(r'font-size="(\d+)px"', attrs)
        if size:
            attrs = attrs.replace(size[0], f'font-size="{int(size[1]) * 9 // 16}px"')
    return f'<tspan font-family="DejaVu Sans"{attrs}>{_as_unicode(glyphs)}</tspan>'


def printable(svg: str) -> str:
    """``svg`` with verovio's text glyphs in a font cairo has (see above)."""
    return _TEXT_GLYPH.sub(_text_font, svg)


@functools.cache
def _engraver() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="verovio")


def svg_pages(musicxml: bytes) -> list[str]:
    """The engraved pages of a MusicXML score, as SVG documents. verovio reads MusicXML only on
    the thread that first used it (the studio engraves on a worker thread, a CLI run on the main
    one; both in one process failed), so every engraving runs on one thread of its own."""
    return _engraver().submit(_svg_pages, musicxml).result()


def _svg_pages(musicxml: bytes) -> list[str]:
    import verovio

    verovio.enableLog(verovio.LOG_OFF)
    tk = verovio.toolkit()
    tk.setOptions(OPTIONS)
    if not tk.loadData(musicxml.decode("utf-8")):
        raise RuntimeError("verovio could not read the MusicXML we wrote")
    return [printable(tk.renderToSVG(page)) for page in range(1, tk.getPageCount() + 1)]


def _cairosvg():  # -> the cairosvg module
    try:
        import cairosvg
    except OSError as exc:  # cairocffi loads libcairo when imported
        raise MissingTool(
            "--output", f"PNG and PDF need the cairo library ({exc}): run {INSTALL}"
        ) from None
    return cairosvg


def check_tools(suffix: str) -> None:
    """Fail before any work when the asked picture format cannot be made here."""
    if suffix in (".png", ".pdf"):
        _cairosvg()


def stacked_svg(pages: list[str]) -> bytes:
    """All pages in one SVG, one below the other."""
    sizes: list[tuple[float, float]] = []
    for svg in pages:
        wm = re.search(r'width="([\d.]+)px"', svg)
        hm = re.search(r'height="([\d.]+)px"', svg)
        sizes.append((float(wm[1]) if wm else 2100.0, float(hm[1]) if hm else 2970.0))
    width, height = max(w for w, _ in sizes), sum(h for _, h in sizes)
    parts, y = [], 0.0
    for svg, (_, h) in zip(pages, sizes, strict=True):
        body = re.sub(r"^<\?xml[^>]*>\s*", "", svg)
        parts.append(f'<g transform="translate(0,{y})">{body}</g>')
        y += h
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="{width}px" height="{height}px" viewBox="0 0 {width} {height}">'
        f'<rect width="100%" height="100%" fill="white"/>'
    )
    return (head + "".join(parts) + "</svg>").encode("utf-8")


def render_picture(musicxml: bytes, suffix: str) -> tuple[bytes, int]:
    """The score as ``suffix`` (.svg, .png, .pdf) bytes, and its number of pages."""
    check_tools(suffix)
    pages = svg_pages(musicxml)
    if suffix == ".svg":
        return stacked_svg(pages), len(pages)
    cairosvg = _cairosvg()
    if suffix == ".png":
        return cairosvg.svg2png(bytestring=stacked_svg(pages), output_width=PNG_WIDTH), len(pages)
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for svg in pages:
        pdf = cairosvg.svg2pdf(bytestring=svg.encode("utf-8"))
        writer.add_page(PdfReader(io.BytesIO(pdf)).pages[0])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue(), len(pages)
