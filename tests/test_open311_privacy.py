"""Open311 keeps to what is public: e-mail addresses masked like phones, photos served only
through an access-checked view (never /media/), and only while request and photo are public."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from shanzhi.cases import services
from shanzhi.cases.models import Attachment, Case, State
from shanzhi.masking import mask_email, mask_personal

from .case_factories import case_type, make_case

pytestmark = pytest.mark.django_db
BASE = "/open311/v2"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _photo() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (5, 5), (9, 9, 9)).save(buffer, format="PNG")
    return SimpleUploadedFile("p.png", buffer.getvalue())


def _typed_case(world, state=State.REPORTED, **report):
    return make_case(world, state, case_type=case_type(world), **report)


def test_e_mail_addresses_are_masked_in_free_text():
    assert mask_email("wang.xiaoming+1@qq.com") == "w****@qq.com"
    text = mask_personal("请回复到Li_Si@zj.gov.cn或13812345678,不是邮箱:@home、x@localhost")
    assert text == "请回复到L****@zj.gov.cn或138****5678,不是邮箱:@home、x@localhost"


def test_open311_descriptions_and_results_mask_e_mail(client, world):
    case = _typed_case(world, State.IN_PROGRESS, text="噪音扰民,处理结果请发 zhangsan@163.com")
    services.case_resolve(
        case=case, actor=world.handler, result="已告知,回执发至 lisi@126.com", evidence="通话记录"
    )
    listed = client.get(f"{BASE}/requests/{case.number}.json").json()[0]
    assert (
        "zhangsan@163.com" not in listed["description"] and "z****@163.com" in listed["description"]
    )
    assert (
        "lisi@126.com" not in listed["status_notes"] and "l****@126.com" in listed["status_notes"]
    )


def test_media_url_is_the_checked_view_and_stops_when_the_case_is_not_public(client, world):
    case = _typed_case(world, photos=[_photo()])
    photo = Attachment.objects.get(case=case)
    listed = client.get(f"{BASE}/requests/{case.number}.json").json()[0]
    assert "/media/cases/" not in listed["media_url"]
    url = f"{BASE}/requests/{case.number}/media/{photo.pk}"
    assert listed["media_url"].endswith(url)
    assert client.get(url).status_code == 200
    assert client.get(f"{BASE}/requests/{case.number}/media/{photo.pk + 999}").status_code == 404
    services.case_reject(case=case, actor=world.dispatcher, reason="不属于受理范围")
    assert client.get(url).status_code == 404


def test_a_photo_of_another_case_is_not_served_under_this_one(client, world):
    first = _typed_case(world, photos=[_photo()])
    second = _typed_case(world)
    photo = Attachment.objects.get(case=first)
    assert client.get(f"{BASE}/requests/{second.number}/media/{photo.pk}").status_code == 404


def test_an_untyped_case_has_no_public_photo(client, world):
    case = make_case(world, photos=[_photo()])
    assert Case.objects.get(pk=case.pk).case_type is None
    photo = Attachment.objects.get(case=case)
    assert client.get(f"{BASE}/requests/{case.number}/media/{photo.pk}").status_code == 404
