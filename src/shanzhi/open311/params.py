"""Reading Open311 query and form parameters: checked here, answered in Chinese when wrong."""

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import URLValidator
from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from shanzhi.errors import DomainError

from .representations import split_service_code

DEFAULT_SPAN = timedelta(days=90)
MAX_PAGE_SIZE = 1000
MAX_ATTRIBUTE_LENGTH = 200
_ATTRIBUTE = re.compile(r"^attribute\[([^\]]+)\]$")
_COORDINATE = Decimal("0.000001")


class InvalidParameter(DomainError):
    code = "invalid_parameter"


@dataclass(frozen=True)
class RequestFilters:
    """GET requests: either explicit case numbers, or a window of filters, one page of it."""

    numbers: tuple[str, ...] = ()
    service_codes: tuple[tuple[str, str], ...] = ()
    states: tuple[str, ...] = ()  # "open" / "closed"
    start: datetime | None = None
    end: datetime | None = None
    jurisdiction_id: str = ""
    page: int = 1
    page_size: int = MAX_PAGE_SIZE


@dataclass(frozen=True)
class Submission:
    """POST requests, as the form gave it. email and device_id are not kept: nothing uses them."""

    service_code: str
    jurisdiction_id: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    address_string: str = ""
    address_id: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    description: str = ""
    reporter_name: str = ""
    phone: str = ""
    account_id: str = ""
    media_url: str = ""
    photos: tuple[UploadedFile, ...] = ()
    idempotency_key: str = ""


def _list(query: QueryDict, name: str) -> list[str]:
    """A comma-separated (or repeated) parameter as a list of non-empty values."""
    return [
        part.strip() for value in query.getlist(name) for part in value.split(",") if part.strip()
    ]


def _positive(query: QueryDict, name: str, default: int, maximum: int | None = None) -> int:
    raw = query.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise InvalidParameter(f"{name} 须为正整数")
    value = int(raw)
    if maximum is not None and value > maximum:
        raise InvalidParameter(f"{name} 不能超过{maximum}")
    return value


def _moment(query: QueryDict, name: str, *, end_of_day: bool = False) -> datetime | None:
    """A W3C datetime; a bare date means its first moment, or its last for an end date."""
    raw = query.get(name, "").strip()
    if not raw:
        return None
    try:
        day = parse_date(raw)
        if day is not None:
            moment: datetime | None = datetime.combine(day, time.max if end_of_day else time.min)
        else:
            moment = parse_datetime(raw)
    except ValueError:
        moment = None
    if moment is None:
        raise InvalidParameter(
            f"{name} 不是有效的 W3C 日期时间,例如 2026-01-31T08:00:00+08:00 或 2026-01-31"
        )
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def request_filters(query: QueryDict, *, now: datetime) -> RequestFilters:
    """GET requests' parameters. Without dates the window is the last 90 days, as the spec says."""
    numbers = tuple(_list(query, "service_request_id"))
    codes = []
    for code in _list(query, "service_code"):
        parts = split_service_code(code)
        if parts is None:
            raise InvalidParameter(f"service_code“{code}”格式不正确,应如 330109001-AQ-XF-01")
        codes.append(parts)
    states = tuple(_list(query, "status"))
    unknown = [state for state in states if state not in {"open", "closed"}]
    if unknown:
        raise InvalidParameter(f"status 只能是 open 或 closed,不认识“{unknown[0]}”")
    start, end = _moment(query, "start_date"), _moment(query, "end_date", end_of_day=True)
    if start is not None and end is not None and start > end:
        raise InvalidParameter("start_date 不能晚于 end_date")
    if start is None:
        start = (end or now) - DEFAULT_SPAN
    return RequestFilters(
        numbers=numbers,
        service_codes=tuple(codes),
        states=states,
        start=start,
        end=end,
        jurisdiction_id=query.get("jurisdiction_id", "").strip(),
        page=_positive(query, "page", 1),
        page_size=_positive(query, "page_size", MAX_PAGE_SIZE, MAX_PAGE_SIZE),
    )


def _coordinate(raw: str, name: str, limit: int) -> Decimal:
    try:
        value = Decimal(raw.strip())
    except InvalidOperation as exc:
        raise InvalidParameter(f"{name} 须为数字(WGS-84 坐标)") from exc
    if not value.is_finite() or abs(value) > limit:
        raise InvalidParameter(f"{name} 须在 -{limit} 到 {limit} 之间")
    return value.quantize(_COORDINATE)


def _text(data: QueryDict, name: str, limit: int) -> str:
    value = data.get(name, "").strip()
    if len(value) > limit:
        raise InvalidParameter(f"{name} 不能超过{limit}个字符")
    return value


def submission(
    data: QueryDict, files: list[UploadedFile], *, idempotency_key: str = ""
) -> Submission:
    """POST requests' form. The place may be lat/long, address_string or address_id (an area
    code, as printed on the QR posters); at least one is needed."""
    service_code = data.get("service_code", "").strip()
    if not service_code:
        raise InvalidParameter("缺少 service_code(事项编码),可先查询 services.json")
    lat, long = data.get("lat", "").strip(), data.get("long", "").strip()
    if bool(lat) != bool(long):
        raise InvalidParameter("lat 与 long 须同时提供")
    latitude = _coordinate(lat, "lat", 90) if lat else None
    longitude = _coordinate(long, "long", 180) if long else None
    address_string = _text(data, "address_string", 200)
    address_id = _text(data, "address_id", 32)
    if latitude is None and not address_string and not address_id:
        raise InvalidParameter("请提供位置:lat/long、address_string 或 address_id 之一")
    attributes = {}
    for key in data:
        match = _ATTRIBUTE.match(key)
        if match is None:
            continue
        value = data.get(key, "").strip()
        if len(value) > MAX_ATTRIBUTE_LENGTH:
            raise InvalidParameter(f"附加字段 {match.group(1)} 不能超过{MAX_ATTRIBUTE_LENGTH}字")
        attributes[match.group(1)] = value
    media_url = _text(data, "media_url", 500)
    if media_url:
        try:
            URLValidator(schemes=["http", "https"])(media_url)
        except ValidationError as exc:
            raise InvalidParameter("media_url 须为 http 或 https 网址") from exc
    # Chinese names put the family name (last_name) first.
    name = _text(data, "last_name", 25) + _text(data, "first_name", 25)
    return Submission(
        service_code=service_code,
        jurisdiction_id=data.get("jurisdiction_id", "").strip(),
        latitude=latitude,
        longitude=longitude,
        address_string=address_string,
        address_id=address_id,
        attributes=attributes,
        description=_text(data, "description", 2000),
        reporter_name=name,
        phone=_text(data, "phone", 20),
        account_id=_text(data, "account_id", 64),
        media_url=media_url,
        photos=tuple(files),
        idempotency_key=idempotency_key.strip(),
    )
