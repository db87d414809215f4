"""The html report's charts: `{% report_chart report block as image %}` gives the image's
data: URI and caption (图N …), or None for a chart with nothing to draw."""

from typing import Any

from django import template

from shanzhi.reports.charts import chart_caption, chart_svg_uri, charts_drawn
from shanzhi.reports.compose import Chart, Report

register = template.Library()


@register.simple_tag
def report_chart(report: Report, chart: Chart) -> dict[str, Any] | None:
    """The image of `chart` in `report`, numbered as the .docx numbers it."""
    for drawn, number in charts_drawn(report.charts):
        if drawn is chart:
            return {
                "src": chart_svg_uri(chart),
                "caption": chart_caption(chart, number),
                "number": number,
            }
    return None
