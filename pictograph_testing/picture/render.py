"""Draw a :class:`~pictograph_testing.picture.view.Picture` as HTML and inline SVG.

Plain strings, every value escaped with :func:`html.escape`; no template engine, no
script or style from elsewhere, so a page works offline and a report is one file.
The same picture always gives the same bytes (a report can be compared, or diffed).
:func:`world_sections` is what the dashboard refreshes; :func:`report_document` wraps
it into a self-contained file.
"""

from __future__ import annotations

import html
import math
import re
from typing import TYPE_CHECKING

from pictograph_testing.catalog import MICRO_USD
from pictograph_testing.picture.view import (
    DATASET_COLUMNS,
    DEPLOYMENT_COLUMNS,
    EXPORT_COLUMNS,
    MODEL_COLUMNS,
    RUN_COLUMNS,
    STREAM_COLUMNS,
    WEBHOOK_COLUMNS,
    clock_text,
    dollars,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from pictograph_testing.picture.view import Attempt, Picture, Row, RunBar

__all__ = ["FILTER_SCRIPT", "STYLE", "escape", "report_document", "world_sections"]

# Characters XML 1.0 takes in no form (not even as a reference), and HTML reads as
# parse errors: a run's name may hold them (the API takes `"nightly\x1b[31m"`).
_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def escape(text: str, quote: bool = True) -> str:
    """``html.escape``, and a character no page may hold shown as U+FFFD: the inline SVG
    stays well-formed XML whatever the world's names hold."""
    return html.escape(_UNWRITABLE.sub("\ufffd", text), quote)


WIDTH = 960
LABEL = 96
LANE = 22
_AXIS = 20
_TICKS = (60, 300, 600, 1800, 3600, 7200, 21600, 43200, 86400, 604800)

COLOURS = {
    "queued": "#9aa5b1",
    "cold": "#c8d3de",
    "running": "#3b82f6",
    "completed": "#16a34a",
    "oom": "#dc2626",
    "service_cap": "#ea580c",
    "injected": "#a21caf",
    "cancelled": "#6b7280",
    "preempted": "#ca8a04",
}
LEGEND = {
    "running": "running",
    "completed": "completed",
    "oom": "failed: out of memory",
    "service_cap": "failed: service cap",
    "injected": "failed: injected",
    "cancelled": "cancelled",
    "preempted": "preempted",
    "cold": "cold start",
    "queued": "waiting",
}
KIND_COLOURS = {
    "opening": "#111827",
    "pre-charge": "#dc2626",
    "refund": "#16a34a",
    "charge": "#ea580c",
    "top-up": "#2563eb",
}

STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:0 1.5rem 2rem;color:#111827}
h1{font-size:1.3rem;margin:1rem 0 .25rem}h2{font-size:1.05rem;margin:1.4rem 0 .4rem}
.meta{color:#4b5563}table{border-collapse:collapse;font-size:12px;margin:.25rem 0}
th,td{border-bottom:1px solid #e5e7eb;padding:2px 8px;text-align:left;vertical-align:top}
th{background:#f3f4f6}td.num{text-align:right;font-variant-numeric:tabular-nums}
.empty{color:#6b7280;font-style:italic}.tables{display:flex;flex-wrap:wrap;gap:1.5rem}
svg text{font:11px system-ui,sans-serif;fill:#374151}.legend span{margin-right:1rem}
.swatch{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
.run:hover rect{stroke:#111827;stroke-width:1}.fault{color:#a21caf}
.controls button{margin:2px}.controls fieldset{display:inline-block;border:1px solid #d1d5db;
margin:2px 6px 2px 0;padding:2px 8px}#status{display:block;min-height:1.2em;color:#374151}
#status.error{color:#b91c1c}
.controls input[type=number]{width:5em}
"""

FILTER_SCRIPT = """
function applyJournalFilter(){
  var box=document.getElementById('journal-filter');
  var needle=box?box.value.toLowerCase():'';
  document.querySelectorAll('#journal tbody tr').forEach(function(row){
    row.hidden=needle!==''&&row.textContent.toLowerCase().indexOf(needle)<0;
  });
}
"""


def _whole_ms_up(seconds: float) -> str:
    """``seconds`` to the millisecond, rounded up: the button that moves the clock by it
    reaches the event, where rounding to the nearest could leave it a hair short for ever
    (an event 5.7e-14 s away reads 0.000, and moving by that moves nothing)."""
    return f"{math.ceil(seconds * 1000) / 1000:.3f}"


def world_sections(picture: Picture) -> str:
    """The timeline, the balance, the ledger, the tables and the journal: the live part."""
    span = _span(picture)
    parts = [
        f'<div id="world" data-now="{picture.now:.3f}" data-next-event="'
        f'{"" if picture.next_event_in is None else _whole_ms_up(picture.next_event_in)}">',
        f'<p class="meta">virtual time <b id="now">{escape(picture.now_text)}</b> '
        f"({escape(clock_text(picture.now))}) · seed {picture.seed} · profile "
        f"{escape(picture.profile)} · {escape(picture.organization)}: balance "
        f'<b id="balance">{escape(dollars(picture.balance_micro_usd))}</b> · '
        f"{picture.journal_total} calls</p>",
        _faults(picture.faults),
        "<h2>Training on the GPU workers</h2>",
        _legend(),
        _timeline(picture, span),
        "<h2>Balance</h2>",
        _balance_chart(picture, span),
        _ledger(picture),
        '<div class="tables">',
        _table("runs", "Runs", RUN_COLUMNS, picture.runs),
        _table("models", "Models", MODEL_COLUMNS, picture.models),
        _table("datasets", "Datasets", DATASET_COLUMNS, picture.datasets),
        _table("exports", "Exports", EXPORT_COLUMNS, picture.exports),
        _table("deployments", "Deployments", DEPLOYMENT_COLUMNS, picture.deployments),
        _table("streams", "Streams", STREAM_COLUMNS, picture.streams),
        _table("webhooks", "Webhooks", WEBHOOK_COLUMNS, picture.webhooks),
        "</div>",
        _journal(picture),
        "</div>",
    ]
    return "\n".join(part for part in parts if part)


def report_document(picture: Picture, title: str) -> str:
    """A self-contained HTML file of the picture: no network, no script from elsewhere."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">'
        f"<title>{escape(title)}</title>"
        f"<style>{STYLE}</style></head>\n<body>\n"
        f"<h1>{escape(title)}</h1>\n"
        '<p><label>Filter the journal <input id="journal-filter" type="search" '
        'oninput="applyJournalFilter()"></label></p>\n'
        f"{world_sections(picture)}\n"
        f"<script>{FILTER_SCRIPT}</script>\n</body></html>\n"
    )


# ── the timeline ──


def _span(picture: Picture) -> tuple[float, float]:
    """The virtual seconds the charts cover: from the start to a little after now."""
    first = min([0.0, *(bar.created_at for bar in picture.bars)])
    last = max(picture.now, first + 60.0)
    return first, last + (last - first) * 0.05


def _x(at: float, span: tuple[float, float]) -> float:
    first, last = span
    return LABEL + (WIDTH - LABEL - 8) * (at - first) / (last - first)


def _axis(span: tuple[float, float], top: float, bottom: float) -> list[str]:
    first, last = span
    step = next((t for t in _TICKS if (last - first) / t <= 10), _TICKS[-1])
    marks = []
    tick = math.ceil(first / step) * step
    while tick <= last:
        x = _x(tick, span)
        marks.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" stroke="#e5e7eb"/>'
            f'<text x="{x:.1f}" y="{bottom + 13}" text-anchor="middle">'
            f"{escape(clock_text(tick))}</text>"
        )
        tick += step
    return marks


def _timeline(picture: Picture, span: tuple[float, float]) -> str:
    height = LANE * len(picture.lanes) + _AXIS
    out = [
        f'<svg id="timeline" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
        'role="img" aria-label="training runs on the GPU workers">'
    ]
    bottom = LANE * len(picture.lanes)
    out.extend(_axis(span, 0, bottom))
    for index, lane in enumerate(picture.lanes):
        y = index * LANE
        out.append(
            f'<g class="lane" data-tier="{escape(lane.tier)}" '
            f'data-worker="{"" if lane.worker is None else lane.worker}">'
            f'<text x="4" y="{y + 15}">{escape(lane.label)}</text>'
            f'<line x1="{LABEL}" y1="{y + LANE}" x2="{WIDTH - 8}" y2="{y + LANE}" '
            'stroke="#f3f4f6"/>'
        )
        out.extend(_run(bar, y, picture.now, span) for bar in lane.bars)
        out.append("</g>")
    now_x = _x(picture.now, span)
    out.append(
        f'<line id="now-marker" x1="{now_x:.1f}" y1="0" x2="{now_x:.1f}" y2="{bottom}" '
        'stroke="#111827" stroke-dasharray="3 2"><title>now</title></line>'
    )
    out.append("</svg>")
    return "".join(out)


def _run(bar: RunBar, y: float, now: float, span: tuple[float, float]) -> str:
    end = bar.ended_at if bar.ended_at is not None else now
    details = [
        f"{bar.name} ({bar.run_id})",
        f"{bar.pipeline} on {bar.tier}: {bar.status}, {bar.progress}%, epoch "
        f"{bar.epoch}/{bar.epochs}",
        f"created {clock_text(bar.created_at)}"
        + (f", ended {clock_text(bar.ended_at)}" if bar.ended_at is not None else ""),
    ]
    if len(bar.attempts) > 1:
        details.append(f"{len(bar.attempts) - 1} preemption(s)")
    if bar.error:
        details.append(bar.error)
    shapes = [f"<title>{escape(chr(10).join(details))}</title>"]
    for attempt in bar.attempts:
        shapes.extend(_attempt(attempt, y, now, span))
    return (
        f'<g class="run" data-run-id="{escape(bar.run_id)}" data-name="{escape(bar.name)}" '
        f'data-status="{escape(bar.status)}" data-outcome="{escape(bar.outcome)}" '
        f'data-start="{bar.created_at:.3f}" data-end="{end:.3f}">' + "".join(shapes) + "</g>"
    )


def _attempt(attempt: Attempt, y: float, now: float, span: tuple[float, float]) -> list[str]:
    end = attempt.ended_at if attempt.ended_at is not None else now
    shapes = []
    waited_until = attempt.assigned_at if attempt.assigned_at is not None else end
    if waited_until > attempt.queued_at:
        shapes.append(_rect(attempt.queued_at, waited_until, y + 15, 3, "queued", span))
    if attempt.assigned_at is not None:
        cold_until = attempt.started_at if attempt.started_at is not None else end
        if cold_until > attempt.assigned_at:
            shapes.append(_rect(attempt.assigned_at, cold_until, y + 4, 14, "cold", span))
        if attempt.started_at is not None and end >= attempt.started_at:
            shapes.append(_rect(attempt.started_at, end, y + 4, 14, attempt.outcome, span))
    if attempt.ended_at is not None and attempt.outcome != "completed":
        x = _x(attempt.ended_at, span)
        shapes.append(
            f'<line x1="{x:.1f}" y1="{y + 2}" x2="{x:.1f}" y2="{y + 20}" '
            f'stroke="{COLOURS[attempt.outcome]}" stroke-width="2"/>'
        )
    return shapes


def _rect(
    begin: float, end: float, y: float, height: float, kind: str, span: tuple[float, float]
) -> str:
    x0, x1 = _x(begin, span), _x(end, span)
    return (
        f'<rect class="{kind}" x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 1.0):.1f}" '
        f'height="{height}" fill="{COLOURS[kind]}"/>'
    )


def _legend() -> str:
    items = "".join(
        f'<span><i class="swatch" style="background:{COLOURS[kind]}"></i>{escape(words)}</span>'
        for kind, words in LEGEND.items()
    )
    return f'<p class="legend">{items}</p>'


# ── the balance ──


def _balance_chart(picture: Picture, span: tuple[float, float]) -> str:
    height, top, chart = 180, 8, 150
    values = [point.balance_micro_usd for point in picture.balance]
    # The balance moves by cents against dollars: fit the scale to what it did.
    pad = max((max(values) - min(values)) // 10, MICRO_USD // 100)
    low, high = min(values) - pad, max(values) + pad

    def y(value: int) -> float:
        return top + chart * (high - value) / (high - low)

    out = [
        f'<svg id="balance-chart" width="{WIDTH}" height="{height + _AXIS}" '
        f'viewBox="0 0 {WIDTH} {height + _AXIS}" role="img" aria-label="balance over time">'
    ]
    out.extend(_axis(span, top, top + chart))
    for value in (low, (low + high) // 2, high):
        out.append(
            f'<text x="4" y="{y(value) + 4:.1f}">{escape(dollars(value))}</text>'
            f'<line x1="{LABEL}" y1="{y(value):.1f}" x2="{WIDTH - 8}" y2="{y(value):.1f}" '
            'stroke="#e5e7eb"/>'
        )
    # The balance holds between entries and jumps at each one: a step line.
    path: list[str] = []
    for point in picture.balance:
        x, level = _x(point.at, span), y(point.balance_micro_usd)
        path.append(f"H{x:.1f} V{level:.1f}" if path else f"M{x:.1f},{level:.1f}")
    path.append(f"H{_x(picture.now, span):.1f}")
    out.append(f'<path d="{" ".join(path)}" fill="none" stroke="#111827" stroke-width="1.5"/>')
    for point in picture.balance:
        tip = (
            f"{point.kind} {dollars(point.amount_micro_usd)} at {clock_text(point.at)}: "
            f"balance {dollars(point.balance_micro_usd)}"
            + (f"\n{point.description}" if point.description else "")
        )
        out.append(
            f'<circle class="entry" data-kind="{escape(point.kind)}" '
            f'cx="{_x(point.at, span):.1f}" cy="{y(point.balance_micro_usd):.1f}" r="4" '
            f'fill="{KIND_COLOURS[point.kind]}"><title>{escape(tip)}</title></circle>'
        )
    out.append("</svg>")
    legend = "".join(
        f'<span><i class="swatch" style="background:{colour}"></i>{escape(kind)}</span>'
        for kind, colour in KIND_COLOURS.items()
    )
    return "".join(out) + f'<p class="legend">{legend}</p>'


def _ledger(picture: Picture) -> str:
    rows = [
        (
            clock_text(point.at),
            point.kind,
            point.operation,
            dollars(point.amount_micro_usd),
            dollars(point.balance_micro_usd),
            point.description,
        )
        for point in picture.balance[1:]
    ]
    return _grid(
        "ledger",
        "Ledger",
        ("at", "kind", "operation", "amount", "balance", "description"),
        rows,
        numeric={3, 4},
    )


# ── tables ──


def _table(key: str, title: str, columns: Sequence[str], rows: Sequence[Row]) -> str:
    return _grid(key, title, columns, [row.cells for row in rows])


def _grid(
    key: str,
    title: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[str]],
    numeric: set[int] | frozenset[int] = frozenset(),
) -> str:
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{escape(cell)}</td>' if i in numeric else f"<td>{escape(cell)}</td>"
            for i, cell in enumerate(cells)
        )
        + "</tr>"
        for cells in rows
    )
    head = "".join(f"<th>{escape(column)}</th>" for column in columns)
    if not body:
        body = f'<tr><td class="empty" colspan="{len(columns)}">none yet</td></tr>'
    return (
        f'<section><h2>{escape(title)}</h2><table id="{key}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></section>"
    )


def _journal(picture: Picture) -> str:
    rows = [
        (
            str(line.index),
            clock_text(line.at),
            line.method,
            line.path,
            str(line.status),
            line.fault or "",
            line.request_id,
        )
        for line in reversed(picture.journal)
    ]
    shown = len(picture.journal)
    note = f'<p class="meta">the newest {shown} of {picture.journal_total} calls, newest first</p>'
    return _grid(
        "journal",
        "Journal",
        ("#", "at", "method", "path", "status", "fault", "request id"),
        rows,
        numeric={0, 4},
    ).replace("</h2>", f"</h2>{note}", 1)


def _faults(faults: Sequence[str]) -> str:
    if not faults:
        return '<p class="meta" id="armed">no fault armed</p>'
    items = "".join(f"<li>{escape(fault)}</li>" for fault in faults)
    return f'<div id="armed" class="fault">armed: <ul>{items}</ul></div>'
