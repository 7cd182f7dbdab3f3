"""The report looked at as a person would: rendered by a browser and as PDF pages.

Headless Chromium (Debian's `chromium`) screenshots report.html; the PDFs (printed by
Chromium, and the matplotlib fallback) are turned into PNG pages with `pdftoppm`. Each
image must not be blank: enough non-white pixels and enough distinct colours (text, tables
and the figures' palette). The same check on an empty page fails, so it can fail.
`bash scripts/test.sh` installs chromium and poppler-utils where it can; elsewhere these
tests are skipped with the reason.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from plot_report_data import make_run

from sim.report.build import write_report
from sim.report.pdf import find_chromium, run_chromium

CHROMIUM = find_chromium()
PDFTOPPM = shutil.which("pdftoppm")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium on PATH (apt-get install chromium; scripts/test.sh does)"
)
needs_pdftoppm = pytest.mark.skipif(
    PDFTOPPM is None,
    reason="no pdftoppm on PATH (apt-get install poppler-utils; scripts/test.sh does)",
)


def ink(png: Path) -> tuple[float, int]:
    """(share of non-white pixels, number of distinct colours)."""
    im = np.asarray(Image.open(png).convert("RGB")).astype(np.int32)
    nonwhite = float((im < 235).any(axis=2).mean())
    packed = (im[..., 0] << 16) | (im[..., 1] << 8) | im[..., 2]
    return nonwhite, len(np.unique(packed))


def looks_like_a_page(png: Path, min_ink: float = 0.03, min_colours: int = 200) -> bool:
    nonwhite, colours = ink(png)
    return nonwhite >= min_ink and colours >= min_colours


def screenshot(url: str, out: Path, height: int = 2000) -> Path:
    run_chromium(CHROMIUM, [f"--screenshot={out}", f"--window-size=1280,{height}", url], timeout=90)
    assert out.exists()
    return out


def pdf_pages(pdf: Path, out_dir: Path) -> list[Path]:
    subprocess.run(
        [PDFTOPPM, "-png", "-r", "50", str(pdf), str(out_dir / "page")], check=True, timeout=120
    )
    return sorted(out_dir.glob("page-*.png"))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    return make_run(tmp_path_factory.mktemp("render") / "run", reps=3)


@needs_chromium
def test_html_report_in_a_browser(run_dir, tmp_path):
    html = write_report(run_dir, "html").path
    shot = screenshot(html.as_uri(), tmp_path / "report.png", height=9000)
    assert Image.open(shot).size == (1280, 9000)
    top, lower = tmp_path / "top.png", tmp_path / "lower.png"
    Image.open(shot).crop((0, 0, 1280, 2000)).save(top)  # the first screen: text, tables
    Image.open(shot).crop((0, 2000, 1280, 9000)).save(lower)  # further down: figures
    assert looks_like_a_page(top), ink(top)
    assert looks_like_a_page(lower, 0.05, 500), ink(lower)
    rgb = np.asarray(Image.open(lower).convert("RGB")).reshape(-1, 3).astype(int)
    for hexcol in ("#0072B2", "#E69F00"):  # the first two schemes' Okabe-Ito colours
        c = np.array([int(hexcol[i : i + 2], 16) for i in (1, 3, 5)])
        assert (np.abs(rgb - c).sum(axis=1) < 30).sum() > 200, hexcol
    # the same check on an empty page fails: it is not vacuous
    empty = tmp_path / "empty.html"
    empty.write_text("<!DOCTYPE html><html><body></body></html>")
    assert not looks_like_a_page(screenshot(empty.as_uri(), tmp_path / "empty.png"))


@needs_chromium
@needs_pdftoppm
def test_pdf_printed_by_chromium(run_dir, tmp_path):
    out = write_report(run_dir, "pdf")
    assert out.engine == "chromium"
    pages = pdf_pages(out.path, tmp_path)
    assert len(pages) >= 4
    assert looks_like_a_page(pages[0], 0.03, 40), ink(pages[0])  # text: fewer colours
    assert sum(looks_like_a_page(p, 0.05, 300) for p in pages) >= 2  # pages with figures
    assert not any(ink(p)[0] == 0 for p in pages)


def test_pdf_rendered_with_matplotlib(run_dir, tmp_path):
    """The fallback without a browser: the same content, laid out by matplotlib."""
    out = write_report(run_dir, "pdf", "matplotlib")
    assert out.engine == "matplotlib"
    data = out.path.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 50_000
    if PDFTOPPM is None:
        pytest.skip("no pdftoppm on PATH: the PDF is not looked at")
    pages = pdf_pages(out.path, tmp_path)
    assert len(pages) >= 4
    assert looks_like_a_page(pages[0], 0.02, 40), ink(pages[0])
    assert sum(looks_like_a_page(p, 0.05, 300) for p in pages) >= 2
