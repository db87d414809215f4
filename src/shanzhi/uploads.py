"""Uploaded photos: what is taken in, how it is stored, how it is served again.

Nothing a client sends is kept as sent. A photo is decoded (only below a pixel limit, so that a
small file of enormous dimensions cannot exhaust a worker), turned upright, and encoded afresh;
what is stored is that new image, under a generated name whose extension comes from its real
type. The camera's location is dropped unless the settings keep it. Anything that does not
decode as a photo is refused with a Chinese message naming the file.
"""

import uuid
import warnings
from collections.abc import Sequence
from io import BytesIO
from tempfile import SpooledTemporaryFile
from typing import IO, Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http import FileResponse, HttpResponse, QueryDict
from django.http.multipartparser import MultiPartParser
from django.http.response import HttpResponseBase
from django.template.loader import render_to_string
from django.utils.datastructures import MultiValueDict
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from shanzhi.errors import DomainError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# Decoded format: (stored format, content type, extension). Lossy sources stay lossy, the rest
# becomes PNG; only the first frame of an animation or a multi-picture file is kept.
FORMATS = {
    "JPEG": ("JPEG", "image/jpeg", ".jpg"),
    "MPO": ("JPEG", "image/jpeg", ".jpg"),
    "WEBP": ("WEBP", "image/webp", ".webp"),
    "PNG": ("PNG", "image/png", ".png"),
    "GIF": ("PNG", "image/png", ".png"),
    "BMP": ("PNG", "image/png", ".png"),
    "TIFF": ("PNG", "image/png", ".png"),
}
SERVED_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})
_PLAIN_MODES = {"JPEG": {"L", "RGB", "CMYK"}, "WEBP": {"RGB", "RGBA"}}
_PNG_MODES = {"1", "L", "LA", "P", "RGB", "RGBA"}
_NAME_SHOWN = 40


class UploadRefused(DomainError):
    code = "invalid_upload"


class CleanPhoto(SimpleUploadedFile):
    """A photo as it is stored: re-encoded, named by us, typed by what it really is."""

    def __init__(self, content: bytes, *, extension: str, content_type: str) -> None:
        super().__init__(f"{uuid.uuid4().hex}{extension}", content, content_type=content_type)


def _shown_name(upload: Any) -> str:
    name = str(getattr(upload, "name", "") or "照片")
    name = "".join(ch for ch in name if ch.isprintable() and ch != "\ufffd") or "照片"
    return name if len(name) <= _NAME_SHOWN else name[: _NAME_SHOWN - 1] + "…"


def _max_pixels() -> int:
    return int(getattr(settings, "SHANZHI_UPLOAD_MAX_PIXELS", 50_000_000))


def _exif_kept(image: Image.Image) -> bytes:
    exif = image.getexif()
    # The pixels were turned upright; a kept orientation would turn them again.
    exif.pop(ExifTags.Base.Orientation, None)
    if getattr(settings, "SHANZHI_UPLOAD_STRIP_LOCATION", True):
        exif.pop(ExifTags.IFD.GPSInfo, None)
    return exif.tobytes() if len(exif) else b""


def _encoded(image: Image.Image, stored: str, exif: bytes) -> bytes:
    modes = _PLAIN_MODES.get(stored, _PNG_MODES)
    if image.mode not in modes:
        alpha = "A" in image.getbands() or "transparency" in image.info
        image = image.convert("RGBA" if alpha and "RGBA" in modes else "RGB")
    options: dict[str, Any] = {"exif": exif} if exif else {}
    if stored in ("JPEG", "WEBP"):
        options["quality"] = 90
    out = BytesIO()
    image.save(out, stored, **options)
    return out.getvalue()


def photo_clean(upload: UploadedFile) -> CleanPhoto:
    """The upload decoded and encoded afresh, or UploadRefused saying why in Chinese."""
    if isinstance(upload, CleanPhoto):
        return upload
    name = _shown_name(upload)
    if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
        raise UploadRefused(f"照片“{name}”超过{MAX_UPLOAD_BYTES // (1024 * 1024)}MB")
    limit = _max_pixels()
    try:
        upload.seek(0)
        with warnings.catch_warnings():
            # Pillow only warns below twice its own limit; ours is checked before decoding.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(upload) as opened:
                kind = opened.format or ""
                if kind not in FORMATS:
                    raise UploadRefused(f"“{name}”不是支持的图片格式,请上传 JPG、PNG 或 WebP 照片")
                if opened.width * opened.height > limit:
                    raise UploadRefused(
                        f"“{name}”的像素过多({opened.width}×{opened.height}),"
                        f"请上传不超过{limit // 10_000}万像素的照片"
                    )
                opened.seek(0)
                opened.load()
                upright = ImageOps.exif_transpose(opened) or opened
                exif = _exif_kept(opened)
                stored, content_type, extension = FORMATS[kind]
                content = _encoded(upright, stored, exif)
    except UploadRefused:
        raise
    except Image.DecompressionBombError as exc:
        raise UploadRefused(
            f"“{name}”的像素过多,请上传不超过{limit // 10_000}万像素的照片"
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise UploadRefused(f"“{name}”不是有效的图片") from exc
    finally:
        upload.seek(0)
    return CleanPhoto(content, extension=extension, content_type=content_type)


def photos_clean(uploads: Sequence[UploadedFile]) -> list[CleanPhoto]:
    """Each upload through `photo_clean`; the first refusal stops them all."""
    return [photo_clean(upload) for upload in uploads]


# Serving ---------------------------------------------------------------------------------------


def missing_file_response() -> HttpResponse:
    """What a stored file that is not on disk (a database restored without its media) answers."""
    return HttpResponse(render_to_string("web/errors/missing_file.html"), status=404)


def photo_response(file: Any, content_type: str) -> HttpResponseBase:
    """A stored photo, served as its type when that is a plain raster image, otherwise as a
    download; a file gone from the store answers a clear 404 page."""
    try:
        handle = file.open("rb")
    except (FileNotFoundError, ValueError):
        return missing_file_response()
    if content_type in SERVED_TYPES:
        response = FileResponse(handle, content_type=content_type)
    else:
        response = FileResponse(handle, as_attachment=True, content_type="application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    return response


# Reading multipart bodies ------------------------------------------------------------------------

# Bodies above this are left to Django's own parser unrepaired.
_REPAIR_LIMIT = 100 * 1024 * 1024


def _repaired(source: IO[bytes], boundary: bytes) -> IO[bytes]:
    """`source` with every undecodable byte in a part's headers replaced.

    Only the header lines between a boundary line and the blank line after it are touched; the
    parts' contents are copied as they are.
    """
    delimiter = b"--" + boundary
    out: IO[bytes] = SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)  # noqa: SIM115 - handed to the parser
    in_headers = False
    for line in iter(source.readline, b""):
        if in_headers:
            if line in (b"\r\n", b"\n"):
                in_headers = False
            else:
                try:
                    line.decode()
                except UnicodeDecodeError:
                    line = line.decode(errors="replace").encode()
        elif line.rstrip() in (delimiter, delimiter + b"--"):
            in_headers = line.rstrip() == delimiter
        out.write(line)
    out.seek(0)
    return out


class RepairingUploadHandler(FileUploadHandler):
    """Reads a multipart body whose part headers are not UTF-8 (a file name in GBK, or bytes of
    nothing at all). Django's parser skips such a header whole, and with it the file, silently:
    the report was taken without its photo. Repaired, the file arrives; its name is never used.
    """

    def handle_raw_input(
        self,
        input_data: IO[bytes],
        META: dict[str, Any],
        content_length: int,
        boundary: str | bytes | None,
        encoding: str | None = None,
    ) -> tuple[QueryDict, MultiValueDict[str, UploadedFile]] | None:
        if not boundary or not 0 < content_length <= _REPAIR_LIMIT:
            return None
        if isinstance(boundary, str):
            boundary = boundary.encode()
        body: IO[bytes] = SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)  # noqa: SIM115 - closed below
        try:
            remaining = content_length
            while remaining > 0:
                chunk = input_data.read(min(remaining, 64 * 1024))
                if not chunk:
                    break
                body.write(chunk)
                remaining -= len(chunk)
            body.seek(0)
            repaired = _repaired(body, boundary)
        finally:
            body.close()
        others = [
            h for h in (self.request.upload_handlers if self.request else []) if h is not self
        ]
        meta = {**META, "CONTENT_LENGTH": str(_length(repaired))}
        try:
            post, files = MultiPartParser(meta, repaired, others, encoding).parse()
        finally:
            repaired.close()
        return post, files


def _length(stream: IO[bytes]) -> int:
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    return size
