"""The impact report's charts: horizontal bar charts drawn on the server as plain SVG.

No script and no reference outside the document (only the SVG namespace): a chart can be shown
as an image anywhere, also where scripts are not allowed. Each has a title and a description
(``role="img"`` labelled by both, for screen readers), and every bar carries its value as text,
so nothing is told by colour alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

SVG_NS = "http://www.w3.org/2000/svg"
WIDTH = 720
BAR = 22
GAP = 10
LABEL = 220  # room for the bars' labels on the left
TOP = 64
COLOURS = ("#1f5f8b", "#c05a00")  # a pair readable by the colour-blind, on white


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | int | None]


def money(cents: float | int | None) -> str:
    if cents is None:
        return "n/a"
    euros = cents / 100
    return f"{euros:,.2f} €".replace(",", " ")


def number(value: float | int | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:g}" if isinstance(value, float) else str(value)


def bar_chart(
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    shown: Callable[[float | int | None], str] = number,
) -> str:
    """One group of bars per label, a bar per series in it; an empty chart says so."""
    groups = max(len(labels), 1)
    per_group = len(series) * BAR + GAP
    legend = 24 if len(series) > 1 else 0
    height = TOP + legend + groups * per_group + 24
    top = max((v or 0 for s in series for v in s.values), default=0) or 1
    room = WIDTH - LABEL - 120
    parts = [
        f'<svg xmlns="{SVG_NS}" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="title desc" '
        'font-family="sans-serif" font-size="13">',
        f'<title id="title">{escape(title)}</title>',
        f'<desc id="desc">{escape(description)}</desc>',
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
        f'<text x="16" y="28" font-size="18" font-weight="bold" fill="#111111">'
        f"{escape(title)}</text>",
        f'<text x="16" y="48" fill="#333333">{escape(description)}</text>',
    ]
    y = TOP
    if len(series) > 1:
        x = LABEL
        for n, s in enumerate(series):
            parts.append(
                f'<rect x="{x}" y="{y}" width="14" height="14" fill="{COLOURS[n % 2]}"/>'
                f'<text x="{x + 20}" y="{y + 12}" fill="#111111">{escape(s.name)}</text>'
            )
            x += 30 + 8 * len(s.name)
        y += legend
    if not labels:
        parts.append(f'<text x="16" y="{y + 16}" fill="#333333">Nothing in this period.</text>')
    for g, label in enumerate(labels):
        gy = y + g * per_group
        parts.append(
            f'<text x="{LABEL - 8}" y="{gy + len(series) * BAR / 2 + 4}" text-anchor="end" '
            f'fill="#111111">{escape(label)}</text>'
        )
        for n, s in enumerate(series):
            value = s.values[g] if g < len(s.values) else None
            length = round(max(value or 0, 0) / top * room, 1)
            by = gy + n * BAR
            parts.append(
                f"<g><title>{escape(f'{label}, {s.name}: {shown(value)}')}</title>"
                f'<rect x="{LABEL}" y="{by + 2}" width="{length}" height="{BAR - 4}" '
                f'fill="{COLOURS[n % 2]}"/>'
                f'<text x="{LABEL + length + 6}" y="{by + BAR / 2 + 4}" fill="#111111">'
                f"{escape(shown(value))}</text></g>"
            )
    parts.append("</svg>")
    return "\n".join(parts)


def scope_of(report: dict) -> str:
    period = report["period"]
    where = (
        f"table {report['table']}"
        if report["table"]
        else f"region {report['region']}"
        if report["region"]
        else "city-wide"
    )
    return f"{period['from']} to {period['until']}, {where}"


def spending(report: dict) -> str:
    s = report["city"]["spending"]
    return bar_chart(
        "The city's spending",
        f"Through partnership contracts and the tables' funds, {scope_of(report)}",
        ["Partnership contracts", "Table funds (programmes)"],
        [Series("spent", [s["contracts_cents"], s["table_funds_cents"]])],
        money,
    )


def cost_per_service(report: dict) -> str:
    rows = report["city"]["categories"]
    return bar_chart(
        "Cost per delivered service",
        f"By category of service, {scope_of(report)}",
        [r["category"] for r in rows],
        [Series("cost per service", [r["cost_per_service_cents"] for r in rows])],
        money,
    )


def coverage(report: dict) -> str:
    rows = report["city"]["coverage"]
    return bar_chart(
        "Coverage by region",
        f"Share of requests assigned to a provider (%), {scope_of(report)}",
        [r["region"] for r in rows],
        [Series("assigned %", [r["coverage_percent"] for r in rows])],
    )


def providers(report: dict) -> str:
    rows = report["providers"]["providers"]
    return bar_chart(
        "Providers' revenue",
        f"What each provider was paid for its work, {scope_of(report)}",
        [r["name"] or r["provider_id"] for r in rows],
        [Series("revenue", [r["revenue_cents"] for r in rows])],
        money,
    )


def rates(report: dict) -> str:
    rows = report["providers"]["providers"]
    return bar_chart(
        "Acceptance and completion",
        f"Offers accepted and jobs completed (%), per provider, {scope_of(report)}",
        [r["name"] or r["provider_id"] for r in rows],
        [
            Series("accepted %", [r["acceptance_percent"] for r in rows]),
            Series("completed %", [r["completion_percent"] for r in rows]),
        ],
    )


def participation(report: dict) -> str:
    p = report["community"]["participation"]
    return bar_chart(
        "People taking part in the tables",
        f"Meetings, events and votes, {scope_of(report)}",
        ["Meeting attendances", "Event attendance", "Voters"],
        [Series("people", [p["meeting_attendances"], p["event_attendance"], p["voters"]])],
    )


def initiatives(report: dict) -> str:
    i = report["community"]["initiatives"]
    o = i["by_origin"]
    return bar_chart(
        "Initiatives",
        f"Raised by residents, members and the city; forwarded and answered, {scope_of(report)}",
        ["Raised by residents", "Raised by members", "Raised by the city", "Forwarded", "Answered"],
        [
            Series(
                "initiatives",
                [o["resident"], o["member"], o["city"], i["forwarded"], i["answered"]],
            )
        ],
    )


def budget(report: dict) -> str:
    b = report["tables"]["all"]["budget"]
    keys = (
        "personnel_and_fees_cents",
        "table_budget_cents",
        "common_expenses_cents",
        "total_cents",
    )
    return bar_chart(
        "The tables' budget, planned and spent",
        f"Personnel and meeting fees, the tables' own budgets, common expenses, {scope_of(report)}",
        ["Personnel and meeting fees", "Tables' budgets", "Common expenses", "Total"],
        [
            Series("planned", [b["planned"][k] for k in keys]),
            Series("spent", [b["actual"][k] for k in keys]),
        ],
        money,
    )


CHARTS: dict[str, Callable[[dict], str]] = {
    "spending": spending,
    "cost-per-service": cost_per_service,
    "coverage": coverage,
    "providers": providers,
    "rates": rates,
    "participation": participation,
    "initiatives": initiatives,
    "budget": budget,
}
