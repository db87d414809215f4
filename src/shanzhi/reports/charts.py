"""The report's charts as PNG images (matplotlib, no display).

Chinese labels need a CJK font. Without one the charts are drawn with numbers only — months as
1–12, categories by their row number in the table beside them — never with empty boxes.
"""

import base64
import io
from functools import cache, lru_cache

from matplotlib import font_manager
from matplotlib.figure import Figure

from .compose import Chart

CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "PingFang SC",
    "Microsoft YaHei",
    "SimHei",
    "AR PL UMing CN",
)
COLOURS = ("#2f6fb0", "#e08a2c")


# File names of the fonts above, for system fonts installed after matplotlib cached its list.
CJK_FILE_HINTS = ("cjk", "sourcehan", "wqy", "pingfang", "msyh", "simhei", "uming")


def _installed() -> set[str]:
    return {entry.name for entry in font_manager.fontManager.ttflist}


@cache
def cjk_font() -> str:
    """The first installed font that writes Chinese, or "" when there is none."""
    found = next((name for name in CJK_FONTS if name in _installed()), "")
    if not found:
        # matplotlib keeps the font list it saw first; a font installed since is added here.
        for path in font_manager.findSystemFonts():
            if any(hint in path.lower() for hint in CJK_FILE_HINTS):
                font_manager.fontManager.addfont(path)
        found = next((name for name in CJK_FONTS if name in _installed()), "")
    return found


def chart_drawn(chart: Chart) -> bool:
    """Whether a chart has anything to draw (an empty one is left out, with its number)."""
    return any(any(values) for _, values in chart.series)


def chart_png(chart: Chart, *, font: str | None = None) -> bytes:
    """The chart drawn as a PNG (for the .docx); `font` "" forces the number-only drawing."""
    return _draw(chart, "png", cjk_font() if font is None else font)


def chart_svg_uri(chart: Chart, *, font: str | None = None) -> str:
    """The chart drawn as SVG, as a data: URI an <img> shows (the html report): no script runs,
    the strict CSP allows data: images, and a saved page keeps its charts. Text is drawn as
    outlines, so the reader needs no Chinese font."""
    svg = _draw(chart, "svg", cjk_font() if font is None else font)
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


# A chart is its data (frozen, hashable): the same figures draw the same image, so a report
# opened again, or as html then docx, does not draw it again.
@lru_cache(maxsize=64)
def _draw(chart: Chart, kind: str, font: str) -> bytes:
    # The object API, not pyplot: no global figure state, safe in a threaded web server.
    figure = Figure(figsize=(6.4, 3.2), dpi=150)
    axes = figure.subplots()
    positions = list(range(len(chart.labels)))
    if chart.key == "trend":
        (first_name, first), *rest = chart.series
        axes.bar(positions, first, color=COLOURS[0], label=first_name)
        for (name, values), colour in zip(rest, COLOURS[1:], strict=False):
            axes.plot(positions, values, color=colour, marker="o", label=name)
        axes.set_xticks(positions, chart.labels)
        if font:
            axes.set_xlabel("月份", fontfamily=font)
            axes.legend(prop={"family": font}, frameon=False)
    else:
        (_, values), *_ = chart.series
        axes.bar(positions, values, color=COLOURS[0])
        if font:
            axes.set_xticks(positions, chart.labels, fontfamily=font, rotation=30, ha="right")
        else:
            axes.set_xticks(positions, [str(i + 1) for i in positions])
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    # No creation date in the SVG's metadata: the same chart draws the same bytes.
    metadata = {"Date": None} if kind == "svg" else None
    figure.savefig(buffer, format=kind, metadata=metadata)
    return buffer.getvalue()


def charts_drawn(charts: list[Chart]) -> list[tuple[Chart, int]]:
    """The charts that have something to draw, each with its number (图N) in the document."""
    return [(chart, n) for n, chart in enumerate((c for c in charts if chart_drawn(c)), start=1)]


def chart_caption(chart: Chart, number: int, *, font: str | None = None) -> str:
    """图N and the title; without a CJK font, also how to read the bare numbers."""
    font = cjk_font() if font is None else font
    caption = f"图{number} {chart.title}"
    if chart.key == "trend":
        names = "、".join(name for name, _ in chart.series)
        if not font:
            caption += f"(横轴为月份;柱为{chart.series[0][0]}"
            caption += f",折线为{chart.series[1][0]})" if len(chart.series) > 1 else ")"
        else:
            caption += f"({names})"
    elif not font and chart.note:
        caption += f"(横轴{chart.note})"
    return caption
