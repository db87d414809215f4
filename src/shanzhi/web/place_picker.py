"""Choosing a place (发生地) by search instead of a list of every node of the street.

A form field keeps its queryset and validation; its widget is a search box whose results come
from `/places/search/`, which searches the same areas the field accepts: each purpose below
names the policy query that both the form and the search use.
"""

from collections.abc import Callable
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.urls import reverse

from shanzhi import policy
from shanzhi.areas.models import Area
from shanzhi.registry.selectors import place_label


def _case_areas(user: Any, case_number: str) -> QuerySet[Area]:
    return policy.case_areas_for(user, policy.case_for(user, case_number))


def _registry_areas(user: Any, case_number: str) -> QuerySet[Area]:
    from .forms_registry import editable_areas

    return editable_areas(user)


# purpose → the areas a user may choose for it (the case number matters only to "case").
PLACE_SCOPES: dict[str, Callable[[Any, str], QuerySet[Area]]] = {
    "intake": lambda user, _: policy.intake_areas_for(user),
    "case": _case_areas,
    "field": lambda user, _: policy.field_areas_for(user),
    "registry": _registry_areas,
}


class PlaceSearchWidget(forms.Widget):
    """A search box and a hidden input holding the chosen area's code (static/web/place-picker.js
    copies a clicked result into it; the CSP allows no inline script)."""

    template_name = "web/widgets/place_picker.html"

    def __init__(self, *, purpose: str, case_number: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.purpose, self.case_number = purpose, case_number

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        code = str(value or "")
        area = Area.objects.filter(code=code).first() if code else None
        query = f"?for={self.purpose}" + (f"&case={self.case_number}" if self.case_number else "")
        context["widget"].update(
            {
                "value": area.code if area else "",
                "chosen": place_label(area) if area else "",
                "url": reverse("place_search") + query,
            }
        )
        return context

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        return data.get(name)
