"""The report as PDF: headless Chromium prints the HTML; matplotlib when there is no Chromium.

Chromium gives the same page as the HTML report. The fallback lays out the same document
(headings, paragraphs, tables, figures) on A4 pages with matplotlib's PdfPages: plainer,
but the same content and no extra dependency.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import textwrap
from pathlib import Path

import matplotlib as mpl
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.image import imread
from matplotlib.lines import Line2D
from matplotlib.typing import RcKeyType

from sim.report.document import WJ, Bullets, Cell, Document, FigureBlock, Paragraph, Table
from sim.store.files import atomic_write_bytes

log = logging.getLogger(__name__)

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)
TIMEOUT_S = 120


def find_chromium() -> str | None:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def run_chromium(browser: str, args: list[str], timeout: float = TIMEOUT_S) -> None:
    """Run headless Chromium with a throw-away profile; RuntimeError when it fails."""
    with tempfile.TemporaryDirectory(prefix="techsim-chromium-") as profile:
        cmd = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
        )
        try:
            _out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise RuntimeError(f"{browser} did not finish within {timeout:.0f} s") from None
        finally:
            if proc.poll() is None:  # pragma: no cover - defensive
                os.killpg(proc.pid, signal.SIGKILL)
        if proc.returncode != 0:
            tail = err.decode(errors="replace").strip().splitlines()[-1:] or [""]
            raise RuntimeError(f"{browser} exited with status {proc.returncode}: {tail[0]}")


def pdf_with_chromium(html: str, out: Path, browser: str) -> None:
    with tempfile.TemporaryDirectory(prefix="techsim-report-") as tmp:
        src = Path(tmp) / "report.html"
        src.write_text(html, encoding="utf-8")
        pdf = Path(tmp) / "report.pdf"
        run_chromium(
            browser,
            [
                "--no-pdf-header-footer",
                "--print-to-pdf-no-header",
                f"--print-to-pdf={pdf}",
                src.as_uri(),
            ],
        )
        if not pdf.exists() or pdf.stat().st_size == 0:
            raise RuntimeError(f"{browser} wrote no PDF")
        atomic_write_bytes(out, pdf.read_bytes())


# --------------------------------------------------------------------------- matplotlib
A4 = (8.27, 11.69)
MARGIN = 0.6
CHAR_W = 0.52  # average glyph width as a share of the font size (DejaVu Sans text)
TABLE_CHAR_W = 0.62  # tables are mostly digits, which are wider


class _Pages:
    """A top-to-bottom layout cursor over A4 pages."""

    def __init__(self, pdf: PdfPages) -> None:
        self.pdf = pdf
        self.fig: Figure | None = None
        self.y = 0.0
        self.width = A4[0] - 2 * MARGIN
        self.page = 0

    def _new(self) -> None:
        self.close()
        self.fig = Figure(figsize=A4)
        self.page += 1
        self.fig.text(
            0.5, 0.35 / A4[1], str(self.page), ha="center", va="bottom", fontsize=8, color="0.4"
        )
        self.y = A4[1] - MARGIN

    def close(self) -> None:
        if self.fig is not None:
            self.pdf.savefig(self.fig)
            self.fig.clear()
            self.fig = None

    def need(self, h: float) -> None:
        if self.fig is None or self.y - h < MARGIN:
            self._new()

    def line(
        self, text: str, size: float, x: float = 0.0, weight: str = "normal", color: str = "black"
    ) -> None:
        h = size * 1.45 / 72
        self.need(h)
        assert self.fig is not None
        self.fig.text(
            (MARGIN + x) / A4[0],
            (self.y - h * 0.8) / A4[1],
            text,
            fontsize=size,
            va="baseline",
            weight=weight,
            color=color,
        )
        self.y -= h

    def text(
        self,
        text: str,
        size: float = 10,
        indent: float = 0.0,
        weight: str = "normal",
        color: str = "black",
    ) -> None:
        chars = max(20, int((self.width - indent) * 72 / (size * CHAR_W)))
        for ln in textwrap.wrap(text, chars) or [""]:
            self.line(ln, size, indent, weight, color)

    def space(self, h: float) -> None:
        self.y -= h

    def table(self, t: Table) -> None:
        """Columns sized by their longest line; a cell's sub-line goes under it, in grey."""
        if t.caption:
            self.space(0.06)
            self.text(t.caption, 10, weight="bold")
        rows = [t.header, *t.rows]
        ncol = max(len(r) for r in rows)

        def lines(c: Cell) -> list[str]:
            return [x.replace(WJ, "") for x in (c.text, c.sub) if x]

        widths = [
            min(40, max((len(x) for r in rows if i < len(r) for x in lines(r[i])), default=1)) + 2
            for i in range(ncol)
        ]
        size = max(5.5, min(8.5, self.width * 72 / (TABLE_CHAR_W * sum(widths))))
        scale = self.width / sum(widths)
        xs = [sum(widths[:i]) * scale for i in range(ncol)]
        cap = [max(4, int(w * scale * 72 / (size * TABLE_CHAR_W)) - 1) for w in widths]
        h = size * 1.4 / 72
        for k, r in enumerate(rows):
            cells_ = []
            for i, c in enumerate(r):
                main = textwrap.wrap(c.text.replace(WJ, ""), cap[i]) or [""]
                sub = textwrap.wrap(c.sub.replace(WJ, ""), cap[i]) if c.sub else []
                bold = k == 0 or "sig" in c.cls.split()
                cells_.append([(x, bold, "black") for x in main] + [(x, False, "0.4") for x in sub])
            n = max(len(c) for c in cells_)
            self.need(n * h + 0.04)
            assert self.fig is not None
            top = self.y
            for i, cl in enumerate(cells_):
                for j, (ln, bold, colour) in enumerate(cl):
                    self.fig.text(
                        (MARGIN + xs[i]) / A4[0],
                        (top - (j + 0.8) * h) / A4[1],
                        ln,
                        fontsize=size,
                        va="baseline",
                        color=colour,
                        weight="bold" if bold else "normal",
                    )
            self.y = top - n * h - 0.02
            self.fig.add_artist(
                Line2D(
                    [MARGIN / A4[0], (A4[0] - MARGIN) / A4[0]],
                    [(self.y + 0.01) / A4[1]] * 2,
                    color="0.8",
                    lw=0.5,
                )
            )
        if t.note:
            self.text(t.note, 8, color="0.35")
        self.space(0.08)

    def image(self, f: FigureBlock) -> None:
        img = imread(io.BytesIO(f.png), format="png")
        h = self.width * img.shape[0] / img.shape[1]
        self.need(h + 0.6)
        self.text(f.title, 10.5, weight="bold")
        assert self.fig is not None
        ax = self.fig.add_axes(
            (MARGIN / A4[0], (self.y - h) / A4[1], self.width / A4[0], h / A4[1])
        )
        ax.imshow(img)
        ax.set_axis_off()
        self.y -= h + 0.05
        self.text(f.caption, 8.5, color="0.35")
        self.space(0.12)


def pdf_with_matplotlib(doc: Document, out: Path) -> None:
    buf = io.BytesIO()
    style: dict[RcKeyType, str | int | bool] = {
        "text.parse_math": False,
        "pdf.fonttype": 42,
        "font.family": "DejaVu Sans",
    }
    with (
        mpl.rc_context(style),
        PdfPages(buf, metadata={"Title": doc.title, "CreationDate": None}) as pdf,
    ):
        pages = _Pages(pdf)
        pages.text(doc.title, 18, weight="bold")
        pages.text(doc.subtitle, 11, color="0.35")
        pages.space(0.15)
        for sec in doc.sections:
            pages.need(1.0)
            pages.space(0.12)
            pages.text(sec.title, 14, weight="bold", color="#0072B2")
            for b in sec.blocks:
                if isinstance(b, Paragraph):
                    pages.text(
                        b.text,
                        11 if b.cls == "h3" else 9.5,
                        weight="bold" if b.cls == "h3" else "normal",
                    )
                    pages.space(0.05)
                elif isinstance(b, Bullets):
                    if b.lead:
                        pages.text(b.lead, 9.5, weight="bold")
                    for item in b.items:
                        chars = int((pages.width - 0.2) * 72 / (9.5 * CHAR_W))
                        for k, ln in enumerate(textwrap.wrap(item, chars)):
                            pages.line(("\u2022 " if k == 0 else "  ") + ln, 9.5, 0.05)
                    pages.space(0.05)
                elif isinstance(b, Table):
                    pages.table(b)
                elif isinstance(b, FigureBlock):
                    pages.image(b)
        pages.space(0.1)
        pages.text(doc.footer, 8, color="0.35")
        pages.close()
    atomic_write_bytes(out, buf.getvalue())


def write_pdf(doc: Document, html: str, out: Path, engine: str = "auto") -> tuple[str, str]:
    """Write the PDF; return (engine used: "chromium" or "matplotlib", a one-line note)."""
    browser = find_chromium() if engine in ("auto", "chromium") else None
    if engine == "chromium" and browser is None:
        raise RuntimeError("no Chromium on PATH (looked for " + ", ".join(BROWSERS) + ")")
    if browser is not None:
        try:
            pdf_with_chromium(html, out, browser)
            note = f"PDF rendered from the HTML report with headless Chromium ({browser})"
            log.info(note)
            return "chromium", note
        except RuntimeError as exc:
            if engine == "chromium":
                raise
            note = f"Chromium failed ({exc}); PDF rendered with matplotlib instead"
    elif engine == "matplotlib":
        note = "PDF rendered with matplotlib (--pdf-engine matplotlib)"
    else:
        note = "No Chromium on PATH: PDF rendered with matplotlib (plainer layout)"
    log.info(note)
    pdf_with_matplotlib(doc, out)
    return "matplotlib", note
