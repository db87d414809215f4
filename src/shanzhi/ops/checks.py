"""System checks of the running platform: the data key matches the data."""

from typing import Any

from django.core.checks import CheckMessage, Error, register
from django.core.exceptions import ImproperlyConfigured

from shanzhi import protection


@register()
def data_key_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """A wrong SHANZHI_DATA_KEY stops every command and the development server at once."""
    try:
        protection.key_check_at_start()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="shanzhi.E001")]
    return []
