"""``report ASSIGNMENT --html DIR``: one page an instructor opens from disk.

``DIR/index.html`` shows the histogram of totals, every grade cell's statistics and histogram,
and each student's scores. The histograms are SVG and PNG files beside it, referred to by
relative paths, and the page names no other address, so the folder can be mailed, archived or
opened without a network. It is drawn from the same gradebook-merged records as the other
report forms, so manual grades and late penalties show.
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

from . import plots, report

STYLE = """
body { font-family: sans-serif; max-width: 60em; margin: 1em auto; padding: 0 1em; color: #222; }
img { max-width: 100%; }
table { border-collapse: collapse; }
th, td { border-bottom: 1px solid #ddd; padding: 0.2em 0.6em; text-align: right; }
th:first-child, td:first-child, th:nth-child(2), td:nth-child(2) { text-align: left; }
td.manual { font-style: italic; }
td.manual::after { content: " \\270E"; }
"""


def figure_stem(grade_id: str) -> str:
    """The file name (without suffix) of a grade cell's histogram; 'totals' stays free."""
    return "cell-" + re.sub(r"[^A-Za-z0-9_.-]", "_", grade_id)


def write(records: list[dict], assignment: str, folder: Path) -> Path:
    """Draw the histograms and write the page; returns the page's path."""
    folder.mkdir(parents=True, exist_ok=True)
    totals = [report.total(record) for record in records]
    maximum = max((most for _, most in totals), default=0)
    plots.save(plots.histogram([points for points, _ in totals], maximum, f"{assignment}: totals"),
               folder / "totals")
    cells = report.cell_statistics(records)
    for cell in cells:
        plots.save(plots.histogram(cell.scores, cell.max_score, cell.grade_id), folder / figure_stem(cell.grade_id))
    page = folder / "index.html"
    page.write_text(_page(records, assignment, cells), encoding="utf-8")
    return page


def _page(records: list[dict], assignment: str, cells: list[report.CellStatistics]) -> str:
    title = escape(f"{assignment}: grading report")
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">', f"<title>{title}</title>",
        f"<style>{STYLE}</style>", "</head>", "<body>", f"<h1>{title}</h1>",
        f"<p>{len(records)} graded notebook(s). Scores as the gradebook has them: manual grades "
        "(marked &#x270E;) replace automatic ones, and late penalties are subtracted.</p>",
        "<h2>Totals</h2>", _figure("totals", "histogram of the totals"),
        "<h2>Exercises</h2>", *(_cell_section(cell) for cell in cells),
        "<h2>Students</h2>", _students_table(records, [cell.grade_id for cell in cells]),
        "</body>", "</html>", ""])


def _figure(stem: str, description: str) -> str:
    return f'<p><img src="{escape(stem)}.svg" alt="{escape(description)}"></p>'


def _cell_section(cell: report.CellStatistics) -> str:
    name = escape(cell.grade_id)
    lines = [f'<section id="{escape(figure_stem(cell.grade_id))}">', f"<h3>{name}</h3>"]
    waiting = f", {cell.waiting} waiting for a manual grade" if cell.waiting else ""
    if cell.scores:
        lines.append(f"<p>mean {cell.mean:.2f}/{cell.max_score:g}, full marks {cell.full_marks:.0%}, "
                     f"graded {len(cell.scores)}/{len(cell.scores) + cell.waiting}{waiting}</p>")
    else:
        lines.append(f"<p>{cell.waiting} waiting for a manual grade</p>")
    lines.append(_figure(figure_stem(cell.grade_id), f"histogram of the scores of {cell.grade_id}"))
    if cell.reasons:
        lines.append("<p>Most common reasons for lost points:</p>")
        lines.append("<ul>" + "".join(f"<li>{count} &times; <code>{escape(reason)}</code></li>"
                                      for reason, count in cell.reasons) + "</ul>")
    lines.append("</section>")
    return "\n".join(lines)


def _students_table(records: list[dict], grade_ids: list[str]) -> str:
    header = "".join(f"<th>{escape(g)}</th>" for g in ["student", "notebook", *grade_ids, "late penalty", "total"])
    rows = [f"<table>\n<tr>{header}</tr>"]
    for record in sorted(records, key=report.by_student):
        cells = {c["grade_id"]: c for c in record["cells"]}
        points, maximum = report.total(record)
        row = [f"<td>{escape(record['student'])}</td>", f"<td>{escape(record['notebook'])}</td>"]
        row += [_score_cell(cells.get(g)) for g in grade_ids]
        row += [f"<td>{record.get('late_penalty', 0.0):g}</td>", f'<td class="total">{points:g}/{maximum:g}</td>']
        key = escape(f"{record['student']}.{record['notebook']}")
        rows.append(f'<tr id="{key}">{"".join(row)}</tr>')
    rows.append("</table>")
    return "\n".join(rows)


def _score_cell(cell: dict | None) -> str:
    if cell is None:
        return "<td></td>"
    if cell["score"] is None:
        return '<td title="waiting for a manual grade">to grade</td>'
    manual = ' class="manual" title="graded by hand"' if cell.get("manual") else ""
    return f"<td{manual}>{cell['score']:g}</td>"
