"""The identifier checks of the registry: 身份证号, 统一社会信用代码 and phone numbers.

Check characters are recomputed here by a second, differently written algorithm (the recursive
form of ISO 7064 MOD 11-2, weights 3^i mod 31, base-36 letter values), so a wrong weight table in
the module cannot agree with the tests by sharing it.

Published vectors, each confirmed by both implementations:
- 11010519491231002X: the worked example of GB 11643-1999, appendix A (15-digit form
  110105491231002).
- 91350100M000100Y43: the example of GB 32100-2015.
- The other 身份证号 and credit codes: test data of python-stdnum (stdnum/cn), numbers found
  published online; every credit code below also passes the embedded GB 11714 check, which
  python-stdnum does not test.
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from shanzhi import clock
from shanzhi.errors import DomainError
from shanzhi.registry.validators import (
    CREDIT_ALPHABET,
    ResidentId,
    credit_code_check,
    credit_code_complete,
    organization_code_complete,
    phone_check,
    resident_id_check,
    resident_id_complete,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")

PROVINCES = [
    *range(11, 16),
    *range(21, 24),
    *range(31, 38),
    *range(41, 47),
    *range(50, 55),
    *range(61, 66),
    71,
    81,
    82,
    83,
]


def mod11_2(first17: str) -> str:
    """ISO 7064 MOD 11-2 in its recursive form: no weight table to get wrong."""
    p = 0
    for digit in first17:
        p = (p + int(digit)) * 2 % 11
    check = (12 - p) % 11
    return "X" if check == 10 else str(check)


def gb11714(first8: str) -> str:
    # int(c, 36) gives A=10 … Z=35, the values GB 11714 assigns to letters.
    total = sum(int(c, 36) * w for c, w in zip(first8, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def mod31(first17: str) -> str:
    total = sum(CREDIT_ALPHABET.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    return CREDIT_ALPHABET[-total % 31]


def raises(function, value, code: str) -> DomainError:
    with pytest.raises(DomainError) as caught:
        function(value)
    assert caught.value.code == code, caught.value.message
    return caught.value


def test_reference_algorithms_agree_with_the_published_examples():
    assert mod11_2("11010519491231002") == "X"
    # The weighted-sum walk-through of the check digit in GB 11643 texts: sum 368 → 7.
    assert mod11_2("12345678901234567") == "7"
    assert gb11714("M000100Y") == "4"
    assert mod31("91350100M000100Y4") == "3"


# --- 身份证号 ------------------------------------------------------------------------------------

VALID_IDS = [
    ("11010519491231002X", date(1949, 12, 31), "female"),
    ("360426199101010071", date(1991, 1, 1), "male"),
    ("44011320141005001X", date(2014, 10, 5), "male"),
    ("412723199010050012", date(1990, 10, 5), "male"),
    ("110102199101010078", date(1991, 1, 1), "male"),
    ("120110198012010073", date(1980, 12, 1), "male"),
]


@pytest.mark.parametrize(("number", "born", "sex"), VALID_IDS)
def test_valid_resident_ids(number, born, sex):
    assert mod11_2(number[:17]) == number[17]
    assert resident_id_check(number) == ResidentId(
        number=number, birth_date=born, sex=sex, upgraded=False
    )


def test_sex_follows_the_parity_of_the_sequence_code():
    for sequence in range(1000):
        body = f"11010519491231{sequence:03d}"
        expected = "male" if sequence % 2 else "female"
        assert resident_id_check(body + mod11_2(body)).sex == expected


@pytest.mark.parametrize(
    "typed",
    [
        "11010519491231002x",
        "  11010519491231002X",
        "11010519491231002x\n",
        "\t11010519491231002X　",
    ],
)
def test_surrounding_whitespace_and_lower_case_x_are_accepted(typed):
    assert resident_id_check(typed).number == "11010519491231002X"


@pytest.mark.parametrize(("number", "born", "sex"), VALID_IDS)
@pytest.mark.parametrize("position", range(18))
def test_every_single_character_change_fails(number, born, sex, position):
    replacements = "0123456789X" if position == 17 else "0123456789"
    for char in replacements.replace(number[position], ""):
        changed = number[:position] + char + number[position + 1 :]
        with pytest.raises(DomainError) as caught:
            resident_id_check(changed)
        # Address digits after the province and the sequence digits change nothing else.
        if 2 <= position < 6 or position >= 14:
            assert caught.value.code == "resident_id_checksum"
            assert caught.value.message == "身份证号校验位不正确"


def test_swapped_neighbours_fail():
    number = "11010519491231002X"
    for i in range(16):
        if number[i] != number[i + 1]:
            swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
            with pytest.raises(DomainError):
                resident_id_check(swapped)


@pytest.mark.parametrize(
    "number",
    [
        "",
        "1",
        "1101051949123100",
        "11010519491231002",
        "11010519491231002X1",
        "1101054912310",
        "110105 19491231002X",
    ],
)
def test_wrong_length(number):
    error = raises(resident_id_check, number, "resident_id_length")
    assert error.message == "身份证号应为18位(或15位旧号码)"


@pytest.mark.parametrize(
    "number",
    [
        "11010519491231002Y",
        "1101051949123100X2",
        "X1010519491231002X",
        "110105194912310O2X",
        "11010519491231002-",
        "11010549123100X",
        "11010549123100x",
        "１１０１０５１９４９１２３１００２Ｘ",
        "١١٠١٠٥١٩٤٩١٢٣١٠٠٢X",
    ],
)
def test_letters_other_than_a_final_x_are_refused(number):
    error = raises(resident_id_check, number, "resident_id_characters")
    assert error.message == "身份证号只能由数字和末位X组成"


@pytest.mark.parametrize("province", range(100))
def test_province_codes(province):
    body = f"{province:02d}010519491231002"
    number = body + mod11_2(body)
    if province in PROVINCES:
        assert resident_id_check(number).number == number
    else:
        error = raises(resident_id_check, number, "resident_id_region")
        assert error.message == "身份证号的地区码无效"


@pytest.mark.parametrize(
    "birth",
    [
        "20230229",
        "19000229",
        "19491301",
        "19490001",
        "19491200",
        "19491232",
        "19490431",
        "00000000",
    ],
)
def test_impossible_birth_dates(birth):
    body = f"110105{birth}002"
    error = raises(resident_id_check, body + mod11_2(body), "resident_id_birth_date")
    assert error.message == "身份证号中的出生日期无效"


@pytest.mark.parametrize("birth", ["20000229", "20240229", "19000101", "19490228"])
def test_possible_birth_dates(birth):
    body = f"110105{birth}002"
    assert resident_id_check(body + mod11_2(body)).birth_date.strftime("%Y%m%d") == birth


@pytest.mark.parametrize("number", ["440524188001010014", "110105189912310023"])
def test_births_before_1900_are_refused(number):
    assert mod11_2(number[:17]) == number[17]
    error = raises(resident_id_check, number, "resident_id_birth_date")
    assert error.message == "身份证号中的出生日期早于1900年"


def with_birth(day: date) -> str:
    body = f"330109{day:%Y%m%d}123"
    return body + mod11_2(body)


def test_a_birth_date_after_today_is_refused():
    with clock.acting_at(datetime(2024, 6, 15, 12, tzinfo=SHANGHAI)):
        assert resident_id_check(with_birth(date(2024, 6, 15))).birth_date == date(2024, 6, 15)
        error = raises(resident_id_check, with_birth(date(2024, 6, 16)), "resident_id_birth_date")
        assert error.message == "身份证号中的出生日期晚于今天"
        raises(resident_id_check, with_birth(date(2031, 1, 1)), "resident_id_birth_date")


def test_today_is_the_day_in_china_not_in_utc():
    # 16:30 UTC on the 14th is already 00:30 on the 15th in Shanghai.
    with clock.acting_at(datetime(2024, 6, 14, 16, 30, tzinfo=UTC)):
        assert resident_id_check(with_birth(date(2024, 6, 15))).birth_date == date(2024, 6, 15)
        raises(resident_id_check, with_birth(date(2024, 6, 16)), "resident_id_birth_date")


def test_a_birth_today_by_the_real_clock_is_accepted():
    today = timezone.localdate()
    assert resident_id_check(with_birth(today)).birth_date == today
    raises(resident_id_check, with_birth(today + timedelta(days=2)), "resident_id_birth_date")


@pytest.mark.parametrize(
    ("old", "number", "born", "sex"),
    [
        ("110105491231002", "11010519491231002X", date(1949, 12, 31), "female"),
        ("360426910101007", "360426199101010071", date(1991, 1, 1), "male"),
        ("120110801201007", "120110198012010073", date(1980, 12, 1), "male"),
        (
            " 330109000101124 ",
            "33010919000101124" + mod11_2("33010919000101124"),
            date(1900, 1, 1),
            "female",
        ),
    ],
)
def test_fifteen_digit_numbers_are_upgraded(old, number, born, sex):
    assert resident_id_check(old) == ResidentId(
        number=number, birth_date=born, sex=sex, upgraded=True
    )
    # The upgraded number is itself a valid, not-upgraded 18-digit number.
    assert resident_id_check(number).upgraded is False


@pytest.mark.parametrize(
    ("old", "code"),
    [
        ("110105490229002", "resident_id_birth_date"),
        ("110105491301002", "resident_id_birth_date"),
        ("990105491231002", "resident_id_region"),
        ("11010549123100A", "resident_id_characters"),
    ],
)
def test_invalid_fifteen_digit_numbers(old, code):
    raises(resident_id_check, old, code)


def generated_id_bodies() -> list[str]:
    bodies = []
    for k in range(600):
        born = date(1900, 1, 1) + timedelta(days=k * 73)
        if born.year > 2020:
            break
        province = PROVINCES[k % len(PROVINCES)]
        bodies.append(f"{province:02d}{k * 7919 % 10000:04d}{born:%Y%m%d}{k * 37 % 1000:03d}")
    return bodies


def test_resident_id_complete_round_trips():
    bodies = generated_id_bodies()
    assert len(bodies) > 500
    checks = set()
    for body in bodies:
        number = resident_id_complete(body)
        assert number == body + mod11_2(body)
        checks.add(number[17])
        parsed = resident_id_check(number)
        assert parsed.number == number
        assert parsed.birth_date.strftime("%Y%m%d") == body[6:14]
        assert parsed.sex == ("male" if int(body[16]) % 2 else "female")
    # Every one of the eleven check characters, X included, came up.
    assert checks == set("0123456789X")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("1101051949123100", "resident_id_length"),
        ("11010519491231002X", "resident_id_length"),
        ("1101051949123100X", "resident_id_characters"),
        ("99010519491231002", "resident_id_region"),
        ("11010519490229002", "resident_id_birth_date"),
    ],
)
def test_resident_id_complete_refuses_bad_bodies(body, code):
    raises(resident_id_complete, body, code)


# --- 统一社会信用代码 ---------------------------------------------------------------------------

VALID_CREDIT_CODES = [
    "91350100M000100Y43",
    "91110000600037341L",
    "121200004013590816",
    "9115220107837757XE",
    "9115220107837941X1",
    "91310115MA1K3BTP2B",
    "91340600MA2PBM9HXD",
    "91340603MA2UJXXCXF",
    "91340621MA2PEMUHX8",
    "91420684MA4927PJ7B",
    "9144030071526726XG",
    "91620105L015101280",
    "91620105MA73NBBLXE",
    "92340602MA2PEL8AXA",
    "92340603MA2PBMYMX1",
    "92340621MA2PBKRXXG",
    "92340621MA2UK3PJXE",
]


@pytest.mark.parametrize("code", VALID_CREDIT_CODES)
def test_valid_credit_codes(code):
    assert gb11714(code[8:16]) == code[16]
    assert mod31(code[:17]) == code[17]
    assert credit_code_check(code) == code


@pytest.mark.parametrize(
    "typed", ["91350100m000100y43", " 91350100M000100Y43\n", "　91350100M000100y43 "]
)
def test_credit_codes_are_normalised(typed):
    assert credit_code_check(typed) == "91350100M000100Y43"


@pytest.mark.parametrize(
    "code",
    ["", "91350100M000100Y4", "91350100M000100Y433", "9135 0100M000100Y43", "91350100-M000100Y43"],
)
def test_credit_code_length(code):
    error = raises(credit_code_check, code, "credit_code_length")
    assert error.message == "统一社会信用代码应为18位"


@pytest.mark.parametrize("letter", "IOZSV")
@pytest.mark.parametrize("position", [0, 1, 8, 12, 16, 17])
def test_credit_code_forbidden_letters(letter, position):
    valid = "91350100M000100Y43"
    code = valid[:position] + letter + valid[position + 1 :]
    for typed in (code, code.lower()):
        error = raises(credit_code_check, typed, "credit_code_forbidden_letter")
        assert error.message == f"统一社会信用代码不能含有字母{letter}"


@pytest.mark.parametrize("char", ["-", "中", "９", "Ｍ", "_", "#"])
def test_credit_code_other_characters(char):
    code = "91350100" + char + "000100Y43"
    error = raises(credit_code_check, code, "credit_code_characters")
    assert char in error.message


def with_credit_check(first17: str) -> str:
    return first17 + mod31(first17)


@pytest.mark.parametrize("authority", CREDIT_ALPHABET)
def test_registration_authority(authority):
    code = with_credit_check(authority + "1350100M000100Y4")
    if authority in "123456789ABCDEFGNY":
        assert credit_code_check(code) == code
    else:
        raises(credit_code_check, code, "credit_code_authority")


@pytest.mark.parametrize("region", ["A50100", "3501Y0", "35010M"])
def test_region_must_be_digits(region):
    raises(credit_code_check, with_credit_check(f"91{region}M000100Y4"), "credit_code_region")


@pytest.mark.parametrize("check", "0123456789XABY".replace("4", ""))
def test_wrong_organization_code_check(check):
    code = with_credit_check("91350100M000100Y" + check)
    error = raises(credit_code_check, code, "credit_code_organization_checksum")
    assert error.message == "统一社会信用代码中的组织机构代码校验位不正确"


def test_organization_check_values_letters_by_the_latin_alphabet():
    # J is 19 in GB 11714 but 18 in the credit-code alphabet; the two readings disagree here.
    assert gb11714("MA2UJXXC") == "X"
    assert credit_code_check("91340603MA2UJXXCXF") == "91340603MA2UJXXCXF"
    raises(
        credit_code_check,
        with_credit_check("91340603MA2UJXXC3"),
        "credit_code_organization_checksum",
    )


@pytest.mark.parametrize("code", VALID_CREDIT_CODES)
def test_every_wrong_final_check_fails(code):
    for char in CREDIT_ALPHABET.replace(code[17], ""):
        error = raises(credit_code_check, code[:17] + char, "credit_code_checksum")
        assert error.message == "统一社会信用代码校验位不正确"


@pytest.mark.parametrize("code", VALID_CREDIT_CODES[:4])
@pytest.mark.parametrize("position", range(17))
def test_every_single_character_change_of_a_credit_code_fails(code, position):
    for char in CREDIT_ALPHABET.replace(code[position], ""):
        with pytest.raises(DomainError):
            credit_code_check(code[:position] + char + code[position + 1 :])


@pytest.mark.parametrize(
    ("body", "organization_code"),
    [
        ("M000100Y", "M000100Y4"),
        ("60003734", "600037341"),
        ("MA2PBM9H", "MA2PBM9HX"),
        ("m000100y", "M000100Y4"),
    ],
)
def test_organization_code_complete(body, organization_code):
    assert organization_code_complete(body) == organization_code


def generated_credit_bodies() -> list[str]:
    n = len(CREDIT_ALPHABET)
    bodies = []
    for k in range(800):
        authority = "123456789ABCDEFGNY"[k % 18]
        kind = CREDIT_ALPHABET[k * 7 % n]
        region = f"{k * 7919 % 1000000:06d}"
        organization = "".join(CREDIT_ALPHABET[(k * 31 + j * (k + 5) * 13) % n] for j in range(8))
        bodies.append(authority + kind + region + organization + gb11714(organization))
    return bodies


def test_credit_code_complete_round_trips():
    checks = set()
    for body in generated_credit_bodies():
        code = credit_code_complete(body)
        assert code == body + mod31(body)
        assert credit_code_check(code) == code
        assert organization_code_complete(body[8:16]) == body[8:17]
        checks.add(code[17])
    assert checks == set(CREDIT_ALPHABET)
    for code in VALID_CREDIT_CODES:
        assert credit_code_complete(code[:17]) == code
        assert credit_code_complete(code[:17].lower()) == code


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("91350100M000100Y", "credit_code_length"),
        ("91350100M000100Y43", "credit_code_length"),
        ("91350100M000100I4", "credit_code_forbidden_letter"),
        ("01350100M000100Y4", "credit_code_authority"),
        ("91350100M000100Y5", "credit_code_organization_checksum"),
    ],
)
def test_credit_code_complete_refuses_bad_bodies(body, code):
    raises(credit_code_complete, body, code)


# --- 电话号码 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        ("13800138000", "13800138000"),
        ("19912345678", "19912345678"),
        ("16612345678", "16612345678"),
        (" 138 0013 8000 ", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("+8613800138000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("+86-13800138000", "13800138000"),
        ("0571-86001234", "0571-86001234"),
        ("057186001234", "0571-86001234"),
        ("0571 8600 1234", "0571-86001234"),
        ("0571-86001234-801", "0571-86001234-801"),
        ("010-62751234", "010-62751234"),
        ("01062751234", "010-62751234"),
        ("021-50123456", "021-50123456"),
        ("0898-6612345", "0898-6612345"),
        ("0898 661 2345", "0898-6612345"),
    ],
)
def test_valid_phone_numbers(typed, normalised):
    assert phone_check(typed) == normalised


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "12345678901",
        "11012345678",
        "1380013800",
        "138001380001",
        "+8713800138000",
        "0013800138000",
        "23800138000",
        "１３８００１３８０００",
        "13800138000x",
        "0571-860012",
        "0571-860012345",
        "0571-06001234",
        "0571-16001234",
        "571-86001234",
        "011-62751234",
        "0571-86001234-",
        "0571-86001234-1234567",
        "0571--86001234",
        "(0571)86001234",
        "电话",
    ],
)
def test_invalid_phone_numbers(typed):
    error = raises(phone_check, typed, "phone_format")
    assert error.message == "手机号或电话号码格式不正确"
