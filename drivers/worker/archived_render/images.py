"""Images for reports: down-scaled to the configured limits, in a format the PDF can carry without loss.

Runs inside a render worker process (it is CPU work). JPEG stays JPEG (re-encoded only when it must shrink),
PNG stays PNG (lossless: diagrams and handwriting must not get JPEG artefacts), SVG passes through, anything
else Pillow can read (GIF, BMP, TIFF, WebP) becomes PNG. An image that cannot be decoded is reported, never
guessed at.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from collections import OrderedDict
from dataclasses import dataclass

from PIL import Image, ImageOps

# A 20000 × 20000 picture is already far beyond what a report needs; refuse decompression bombs early.
Image.MAX_IMAGE_PIXELS = 400_000_000


@dataclass(frozen=True)
class ImageLimits:
    """Down-scaling limits for raster images (pixels) and the JPEG quality used when re-encoding."""

    max_width: int = 1280
    max_height: int = 1280
    jpeg_quality: int = 85


class ImageDecodeError(ValueError):
    """The bytes are not an image Pillow can decode."""


def prepare_image(data: bytes, mime: str, limits: ImageLimits) -> tuple[bytes, str]:
    """Return (bytes, mime) of the image as it goes into the PDF: scaled down, normalised format."""
    if mime == "image/svg+xml" or data.lstrip()[:5] in (b"<svg ", b"<?xml"):
        return data, "image/svg+xml"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(data))
            opened.load()
    except Exception as exc:
        raise ImageDecodeError(f"cannot decode image ({mime or 'unknown type'}): {exc}") from exc
    fmt = opened.format
    image: Image.Image = opened
    too_big = image.width > limits.max_width or image.height > limits.max_height
    if fmt == "JPEG" and not too_big and not _has_exif_rotation(image):
        return data, "image/jpeg"  # untouched: no generation loss
    if fmt == "PNG" and not too_big:
        return data, "image/png"
    image = ImageOps.exif_transpose(image) or image
    if too_big:
        image.thumbnail((limits.max_width, limits.max_height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if fmt == "JPEG":
        if image.mode not in ("RGB", "L", "CMYK"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=limits.jpeg_quality, optimize=False)
        return out.getvalue(), "image/jpeg"
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if _has_alpha(image) else "RGB")
    image.save(out, "PNG", compress_level=3)
    return out.getvalue(), "image/png"


# The signatures of the formats `prepare_image` takes, for bytes whose declared type says nothing.
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"), (b"BM", "image/bmp"), (b"II*\x00", "image/tiff"), (b"MM\x00*", "image/tiff"),
)  # fmt: skip


def sniff_image_mime(data: bytes) -> str | None:
    """The image type the bytes start like (PNG, JPEG, GIF, BMP, TIFF, WebP, SVG), or None."""
    for signature, mime in _SIGNATURES:
        if data.startswith(signature):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:256].lstrip()[:5] in (b"<svg ", b"<?xml"):
        return "image/svg+xml"
    return None


def image_size(data: bytes) -> tuple[int, int] | None:
    """Pixel size of a raster image without decoding it fully, or None."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except Exception:
        return None


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def _has_exif_rotation(image: Image.Image) -> bool:
    try:
        return image.getexif().get(0x0112, 1) not in (1, None)
    except Exception:
        return False


class PreparedImageCache:
    """Bounded LRU of prepared images by content hash: the same question image recurs in every attempt."""

    def __init__(self, max_bytes: int = 16 * 1024 * 1024) -> None:
        self._max_bytes = max_bytes
        self._bytes = 0
        self._items: OrderedDict[str, tuple[bytes, str]] = OrderedDict()

    def get(self, data: bytes, mime: str, limits: ImageLimits) -> tuple[bytes, str]:
        """The prepared image, computed once per distinct (bytes, limits)."""
        key = hashlib.sha256(data).hexdigest() + repr(limits)
        hit = self._items.get(key)
        if hit is not None:
            self._items.move_to_end(key)
            return hit
        prepared = prepare_image(data, mime, limits)
        size = len(prepared[0])
        if size <= self._max_bytes // 4:
            self._items[key] = prepared
            self._bytes += size
            while self._bytes > self._max_bytes:
                _, (old, _mime) = self._items.popitem(last=False)
                self._bytes -= len(old)
        return prepared
