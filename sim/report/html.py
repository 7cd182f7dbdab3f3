"""One self-contained HTML file from a report document: CSS inline, figures as data URIs.

Every piece of text goes through `html.escape`; the page also carries a Content Security
Policy that allows no script and no outside resource, as a second line of defence.
"""

from __future__ import annotations

import base64
from html import escape

from sim.report.document import Bullets, Cell, Document, FigureBlock, Paragraph, Section, Table

CSS = """
:root { --ink: #1d2430; --muted: #5b6472; --rule: #d9dde3; --band: #f4f6f8; --accent: #0072B2; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 15px/1.5 "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 28px 36px 48px; }
header.title { border-bottom: 4px solid var(--accent); padding-bottom: 12px; margin-bottom: 18px; }
h1 { font-size: 30px; margin: 0 0 6px; line-height: 1.2; }
.subtitle { color: var(--muted); font-size: 16px; margin: 0; }
nav { background: var(--band); padding: 10px 16px; border-radius: 6px; margin: 12px 0 8px; }
nav a { color: var(--accent); text-decoration: none; margin-right: 18px; white-space: nowrap; }
h2 { font-size: 22px; margin: 34px 0 10px; padding-bottom: 4px;
     border-bottom: 1px solid var(--rule); }
h3 { font-size: 17px; margin: 20px 0 6px; }
p { margin: 8px 0; }
p.lead { font-size: 16.5px; }
p.note, .caption, .tnote { color: var(--muted); font-size: 13.5px; }
ul { margin: 6px 0 12px; padding-left: 22px; }
li { margin: 3px 0; }
table { border-collapse: collapse; margin: 10px 0 4px; font-size: 14px; width: 100%; }
caption { text-align: left; font-weight: 600; padding: 4px 0 6px; font-size: 15px; }
th, td { padding: 5px 9px; border-bottom: 1px solid var(--rule); vertical-align: top; }
th { background: var(--band); text-align: left; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
tbody tr:nth-child(even) td { background: #fafbfc; }
td .sub { display: block; font-size: 12.5px; color: var(--muted); font-weight: normal;
  white-space: normal; }
td.sig { font-weight: 600; }
table.assumptions { width: auto; min-width: 55%; }
table.assumptions td.long { max-width: 560px; }
td.ns { color: var(--muted); font-style: italic; }
td.key { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 13px; }
td.long { white-space: normal; max-width: 680px; }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px;
  margin-right: 6px; vertical-align: baseline; }
figure { margin: 18px 0 26px; break-inside: avoid; page-break-inside: avoid; }
figure img { width: 100%; height: auto; border: 1px solid var(--rule); }
figcaption { margin-top: 6px; }
figcaption b { display: block; font-size: 15.5px; margin-bottom: 2px; }
footer { margin-top: 40px; color: var(--muted); font-size: 13px; border-top: 1px solid var(--rule);
  padding-top: 10px; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { font-size: 11pt; }
  main { max-width: none; padding: 0; }
  nav { display: none; }
  h2 { break-after: avoid; page-break-after: avoid; }
  table { font-size: 9.5pt; }
  th, td { padding: 3px 6px; }
  tr { break-inside: avoid; }
}
"""

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _cell(c: Cell, tag: str) -> str:
    cls = f' class="{escape(c.cls)}"' if c.cls else ""
    sw = (
        f'<span class="swatch" style="background:{escape(c.swatch)}"></span>'
        if c.swatch.startswith("#") and len(c.swatch) in (4, 7)
        else ""
    )
    sub = f'<span class="sub">{escape(c.sub)}</span>' if c.sub else ""
    return f"<{tag}{cls}>{sw}{escape(c.text)}{sub}</{tag}>"


def _table(t: Table) -> str:
    out = [f'<table class="{escape(t.cls)}">' if t.cls else "<table>"]
    if t.caption:
        out.append(f"<caption>{escape(t.caption)}</caption>")
    out.append("<thead><tr>" + "".join(_cell(c, "th") for c in t.header) + "</tr></thead>")
    out.append("<tbody>")
    for row in t.rows:
        out.append("<tr>" + "".join(_cell(c, "td") for c in row) + "</tr>")
    out.append("</tbody></table>")
    if t.note:
        out.append(f'<p class="tnote">{escape(t.note)}</p>')
    return "\n".join(out)


def _figure(f: FigureBlock) -> str:
    data = base64.b64encode(f.png).decode("ascii")
    return (
        f'<figure id="fig-{escape(f.name)}"><img alt="{escape(f.title)}" '
        f'src="data:image/png;base64,{data}"><figcaption><b>{escape(f.title)}</b>'
        f'<span class="caption">{escape(f.caption)}</span></figcaption></figure>'
    )


def _block(b: object) -> str:
    if isinstance(b, Paragraph):
        cls = f' class="{escape(b.cls)}"' if b.cls else ""
        if b.cls == "h3":
            return f"<h3>{escape(b.text)}</h3>"
        return f"<p{cls}>{escape(b.text)}</p>"
    if isinstance(b, Bullets):
        lead = f"<p>{escape(b.lead)}</p>" if b.lead else ""
        return lead + "<ul>" + "".join(f"<li>{escape(i)}</li>" for i in b.items) + "</ul>"
    if isinstance(b, Table):
        return _table(b)
    if isinstance(b, FigureBlock):
        return _figure(b)
    raise TypeError(f"unknown block {type(b).__name__}")


def _section(s: Section) -> str:
    body = "\n".join(_block(b) for b in s.blocks)
    return f'<section id="{escape(s.id)}">\n<h2>{escape(s.title)}</h2>\n{body}\n</section>'


def render_html(doc: Document) -> str:
    nav = "".join(f'<a href="#{escape(s.id)}">{escape(s.title)}</a>' for s in doc.sections)
    sections = "\n".join(_section(s) for s in doc.sections)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(doc.title)}</title>
<style>{CSS}</style>
</head>
<body>
<main>
<header class="title"><h1>{escape(doc.title)}</h1>
<p class="subtitle">{escape(doc.subtitle)}</p></header>
<nav>{nav}</nav>
{sections}
<footer>{escape(doc.footer)}</footer>
</main>
</body>
</html>
"""
