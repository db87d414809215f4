"""Uploads: decoded under a pixel limit, re-encoded, stored under our own name and real type;
anything else refused in Chinese, and no upload ever answers 500."""

import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image

from shanzhi import uploads
from shanzhi.cases import services
from shanzhi.cases.models import Attachment, Case, State

from .case_factories import case_type, make_case

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(side: int = 20000) -> bytes:
    """A valid one-bit PNG of side × side pixels that compresses to a few dozen KB."""
    row = b"\x00" + bytes((side + 7) // 8)
    pixels = zlib.compress(row * side, 9)
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", pixels)
        + _chunk(b"IEND", b"")
    )


def png_bytes(size=(8, 6)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg_with_location() -> bytes:
    image = Image.new("RGB", (40, 20), (200, 30, 30))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "ShanzhiCam"
    exif[ExifTags.Base.Orientation] = 6  # turned: the stored photo must be upright
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(
        {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (30.0, 10.0, 5.0)}
    )
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def report(client, world, photo: SimpleUploadedFile):
    return client.post(
        f"/r/{world.microgrid.code}/",
        {"description": "路灯坏了", "client_key": "k" * 32, "photos": [photo]},
    )


def test_the_pixel_bomb_is_refused_in_chinese_on_the_resident_page(client, world):
    bomb = png_bomb()
    assert len(bomb) < 100_000
    response = report(client, world, SimpleUploadedFile("a.png", bomb, content_type="image/png"))
    assert response.status_code == 400
    assert "像素过多" in response.content.decode()
    assert not Case.objects.exists()


def test_the_pixel_bomb_is_refused_on_the_field_report_page(client, world):
    client.force_login(world.grid_worker)
    response = client.post(
        "/field/report/",
        {
            "area": world.grid.code,
            "description": "井盖缺失",
            "client_key": "f" * 32,
            "photos": [SimpleUploadedFile("b.png", png_bomb(), content_type="image/png")],
        },
    )
    assert response.status_code == 400
    assert "像素过多" in response.content.decode()
    assert not Case.objects.exists()


def test_the_pixel_bomb_is_refused_by_the_resolve_service(world):
    case = make_case(world, State.IN_PROGRESS)
    bomb = SimpleUploadedFile("c.png", png_bomb(), content_type="image/png")
    with pytest.raises(services.IntakeError, match="像素过多"):
        services.case_resolve(case=case, actor=world.handler, result="已处理", photos=[bomb])
    assert not Attachment.objects.exists()


def test_a_png_with_html_appended_sent_as_html_is_stored_as_a_clean_png(client, world):
    disguised = png_bytes() + b"<html><script>alert(document.cookie)</script></html>"
    photo = SimpleUploadedFile("x.html", disguised, content_type="text/html")
    response = report(client, world, photo)
    assert response.status_code == 302
    stored = Attachment.objects.get()
    assert stored.file.name.endswith(".png") and "x" not in stored.file.name.rsplit("/", 1)[1][:1]
    assert stored.content_type == "image/png"
    content = stored.file.read()
    assert b"<script" not in content
    with Image.open(io.BytesIO(content)) as image:
        assert image.format == "PNG" and image.size == (8, 6)
    case = Case.objects.get()
    served = client.get(f"/t/{case.tracking_token}/photos/{stored.pk}/")
    assert served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"


def test_a_file_that_is_not_an_image_is_refused_whatever_it_is_called(client, world):
    script = SimpleUploadedFile(
        "照片.jpg", b"<?php system($_GET['c']); ?>", content_type="image/jpeg"
    )
    response = report(client, world, script)
    assert response.status_code == 400
    assert "“照片.jpg”不是有效的图片" in response.content.decode()
    svg = SimpleUploadedFile("a.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    assert "不是有效的图片" in report(client, world, svg).content.decode()
    assert not Case.objects.exists()


def test_a_truncated_image_is_refused_not_a_500(client, world):
    broken = png_bytes((400, 400))[:200]
    response = report(client, world, SimpleUploadedFile("d.png", broken))
    assert response.status_code == 400
    assert "不是有效的图片" in response.content.decode()


def test_a_file_name_of_undecodable_bytes_still_brings_its_photo(client, world):
    boundary = "shanzhiboundary"
    photo = png_bytes()
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="description"\r\n\r\n'
        "楼道堆物\r\n"
        f'--{boundary}\r\nContent-Disposition: form-data; name="client_key"\r\n\r\n'
        f"{'u' * 32}\r\n"
    ).encode() + (
        f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; filename="'.encode()
        + b"\xff\xfe\xd5\xd5.png"
        + b'"\r\nContent-Type: image/png\r\n\r\n'
        + photo
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = client.generic(
        "POST",
        f"/r/{world.microgrid.code}/",
        body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.description == "楼道堆物"
    stored = Attachment.objects.get(case=case)
    assert stored.file.name.endswith(".png")


def test_the_location_is_dropped_the_rest_kept_and_the_photo_turned_upright(settings):
    cleaned = uploads.photo_clean(SimpleUploadedFile("现场.jpg", jpeg_with_location()))
    assert cleaned.name.endswith(".jpg") and cleaned.content_type == "image/jpeg"
    with Image.open(cleaned) as image:
        assert image.size == (20, 40)  # orientation 6 applied
        exif = image.getexif()
        assert exif.get(ExifTags.Base.Make) == "ShanzhiCam"
        assert ExifTags.Base.Orientation not in exif
        assert not exif.get_ifd(ExifTags.IFD.GPSInfo)
    settings.SHANZHI_UPLOAD_STRIP_LOCATION = False
    kept = uploads.photo_clean(SimpleUploadedFile("现场.jpg", jpeg_with_location()))
    with Image.open(kept) as image:
        assert image.getexif().get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] == "N"


def test_a_checked_photo_is_not_encoded_twice():
    cleaned = uploads.photo_clean(SimpleUploadedFile("a.png", png_bytes()))
    assert uploads.photo_clean(cleaned) is cleaned


def test_the_pixel_limit_is_a_setting(settings):
    settings.SHANZHI_UPLOAD_MAX_PIXELS = 40
    with pytest.raises(uploads.UploadRefused, match="8×6"):
        uploads.photo_clean(SimpleUploadedFile("a.png", png_bytes()))


def test_a_photo_whose_file_is_gone_answers_a_clear_page(client, world):
    case = make_case(world, State.IN_PROGRESS)
    photo = SimpleUploadedFile("e.png", png_bytes())
    services.case_resolve(case=case, actor=world.handler, result="已处理", photos=[photo])
    stored = Attachment.objects.get(case=case)
    stored.file.storage.delete(stored.file.name)
    client.force_login(world.dispatcher)
    response = client.get(f"/cases/{case.number}/photos/{stored.pk}/")
    assert response.status_code == 404
    assert "该文件已不在存储中" in response.content.decode()


def test_open311_refuses_the_bomb_in_its_own_format(client, world):
    service = case_type(world)
    response = client.post(
        "/open311/v2/requests.json",
        {
            "service_code": f"{world.street.code}-{service.code}",
            "description": "占道经营",
            "address_id": world.microgrid.code,
            "media": SimpleUploadedFile("m.png", png_bomb(), content_type="image/png"),
        },
    )
    assert response.status_code == 400
    assert "像素过多" in response.json()[0]["description"]
    assert not Case.objects.exists()


def test_the_api_refuses_the_bomb_in_chinese(client, world):
    from shanzhi.api.tokens import api_token_create

    _, raw = api_token_create(name="网格通", user=world.grid_worker)
    case = make_case(world)
    response = client.post(
        f"/api/v1/cases/{case.number}/resolve_on_spot",
        {
            "version": case.version,
            "case_type_id": case_type(world).pk,
            "result": "已清理",
            "photos": SimpleUploadedFile("b.png", png_bomb(), content_type="image/png"),
        },
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert response.status_code in (400, 422), response.content
    assert "像素过多" in response.json()["message"]
    assert not Attachment.objects.exists()
