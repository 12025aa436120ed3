"""Reference-image checks and preparation for Runway Characters.

A Runway Character is built from a single reference image and streamed at
1088x704. Users bring phone photos (EXIF orientation, wide-gamut ICC
profiles, multi-picture JPEGs), screenshots (RGBA / palette PNGs) and print
assets (CMYK JPEGs). This module answers two questions without spending a
processing run:

* :func:`preflight` - "can we use this file, and is it any good?" It never
  raises on bad input; it returns an :class:`ImageReport` whose ``problems``
  are refusals and whose ``warnings`` are advice, both written for people.
* :func:`normalise`, :func:`crop_box`, :func:`centre_crop`,
  :func:`crop_preview`, :func:`to_upload` - turn an accepted file into the
  clean, upright, metadata-free RGB image we actually send upstream.

The module is pure: no module-level mutable state, no I/O besides the bytes
it is given, and no web framework imports (``studio`` is the domain core).

Pillow has two process-wide switches relevant to untrusted input. We never
turn ``ImageFile.LOAD_TRUNCATED_IMAGES`` on; if some other code has, we
force it off for the duration of our own decode and restore it afterwards,
so a half-downloaded photo is always reported as damaged. Pillow's own
decompression-bomb limit (``Image.MAX_IMAGE_PIXELS``) is looser than ours:
we enforce :data:`MAX_PIXELS` ourselves from the header, before decoding, and
silence Pillow's ``DecompressionBombWarning`` with ``warnings.catch_warnings``
while we open a file (that context manager is process-wide in Python 3.11, so
a concurrent thread's warnings may be filtered for those few milliseconds).
"""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from PIL import Image, ImageFile, ImageOps, ImageStat

from studio.errors import StudioError

try:  # LittleCMS is bundled with Pillow wheels, but builds without it exist.
    from PIL import ImageCms
except ImportError:  # pragma: no cover - depends on the Pillow build
    ImageCms = None  # type: ignore[assignment]

__all__ = [
    "ACCEPTED_FORMATS",
    "BRIGHT_MEAN_LUMA",
    "CENTRE",
    "DARK_MEAN_LUMA",
    "HEAVY_CROP_FRACTION",
    "JPEG_QUALITY",
    "LOW_CONTRAST_STDDEV",
    "MAX_ASPECT_RATIO",
    "MAX_DATA_URI_BYTES",
    "MAX_INPUT_BYTES",
    "MAX_PIXELS",
    "MAX_UPLOAD_BYTES",
    "MAX_URL_BYTES",
    "MIN_SHORT_SIDE",
    "MIN_UPLOAD_BYTES",
    "PREVIEW_JPEG_QUALITY",
    "PREVIEW_MAX_WIDTH",
    "RECOMMENDED_SHORT_SIDE",
    "STREAM_ASPECT",
    "STREAM_SIZE",
    "UPLOAD_MAX_SIDE",
    "ImageRejected",
    "ImageReport",
    "NormalisedImage",
    "centre_crop",
    "crop_box",
    "crop_preview",
    "normalise",
    "preflight",
    "safe_filename",
    "to_upload",
]

# --------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------

#: Where a crop sits by default: the middle of the spare pixels, (x, y) in 0..1.
CENTRE: tuple[float, float] = (0.5, 0.5)
#: Size of the Runway Characters video stream, (width, height) in pixels.
STREAM_SIZE: tuple[int, int] = (1088, 704)
#: Aspect ratio of the stream, 17:11 (about 1.545, landscape).
STREAM_ASPECT: float = STREAM_SIZE[0] / STREAM_SIZE[1]

#: Container formats the Runway API accepts, as Pillow names them.
ACCEPTED_FORMATS: frozenset[str] = frozenset({"JPEG", "PNG", "WEBP"})

# Byte limits published by the Runway API. We use decimal megabytes
# (1 MB = 1,000,000 bytes): if Runway means MiB our limits are merely a
# little stricter than necessary, never looser.
#: Largest image Runway fetches from an https URL.
MAX_URL_BYTES: int = 16_000_000
#: Largest ``data:`` URI Runway accepts. This counts the base64 text, so the
#: raw image must be at most about 3/4 of it (~3.75 MB).
MAX_DATA_URI_BYTES: int = 5_000_000
#: Smallest file Runway's upload endpoint accepts.
MIN_UPLOAD_BYTES: int = 512
#: Largest file Runway's upload endpoint accepts.
MAX_UPLOAD_BYTES: int = 200_000_000
#: Largest *source* file preflight accepts. We re-encode before uploading, so
#: strictly only the upload limit applies, but we hold users to the smallest
#: published limit (the URL one) so every transport path stays open and a
#: single upload can't tie up a worker decoding a 200 MB file.
MAX_INPUT_BYTES: int = MAX_URL_BYTES

#: Decompression-bomb guard: refuse images whose header claims more pixels
#: than this (40 megapixels ~ a 7700x5200 photo; ~160 MB decoded as RGBA).
#: Checked from the header, before any pixel data is decoded.
MAX_PIXELS: int = 40_000_000
#: Shorter side below this is refused: there is not enough face to work with.
MIN_SHORT_SIDE: int = 256
#: Shorter side of the stream; a centred crop smaller than the stream (which
#: always happens below this) only earns a warning: it will look soft.
RECOMMENDED_SHORT_SIDE: int = STREAM_SIZE[1]
#: Refuse anything wider than 4:1 or taller than 1:4 (long side / short side).
MAX_ASPECT_RATIO: float = 4.0
#: Warn when cropping to the stream's shape cuts away more than this fraction
#: of the picture (a 4:3 or 16:9 photo loses ~13%; a 3:4 portrait ~51%).
HEAVY_CROP_FRACTION: float = 0.25

# Exposure heuristics, on 0-255 luma of a small thumbnail. Deliberately loose:
# they are only ever warnings ("maybe"), never refusals.
#: Mean luma below this reads as "very dark".
DARK_MEAN_LUMA: float = 60.0
#: Mean luma above this reads as "washed out / overexposed".
BRIGHT_MEAN_LUMA: float = 225.0
#: Luma standard deviation below this reads as "flat / low contrast".
LOW_CONTRAST_STDDEV: float = 20.0
#: Longest side of the thumbnail the exposure heuristics look at.
_STATS_MAX_SIDE: int = 256

#: JPEG quality for everything we encode for Runway.
JPEG_QUALITY: int = 92
#: JPEG quality for UI previews.
PREVIEW_JPEG_QUALITY: int = 85
#: Widest UI preview (half the stream width).
PREVIEW_MAX_WIDTH: int = STREAM_SIZE[0] // 2
#: :func:`to_upload` scales images down so their longer side is at most this.
#: Keeps a worst-case q92 JPEG far below the 16 MB URL limit (typical photos
#: land around 1-3 MB) while leaving more than twice the stream resolution,
#: even for a 4:1 panorama.
UPLOAD_MAX_SIDE: int = 4096
#: Longest stem :func:`safe_filename` keeps.
_MAX_STEM_CHARS: int = 64

_EXIF_ORIENTATION_TAG = 0x0112
#: EXIF orientations that swap width and height.
_SWAPS_AXES = frozenset({5, 6, 7, 8})
#: What each EXIF orientation needs to display upright (as ImageOps.exif_transpose does).
_ORIENTATION_TRANSPOSE: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I"})
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})

#: Friendly names for formats we recognise but refuse.
_FORMAT_NAMES: dict[str, str] = {
    "JPEG": "JPEG",
    "PNG": "PNG",
    "WEBP": "WebP",
    "GIF": "GIF",
    "BMP": "BMP",
    "DIB": "BMP",
    "TIFF": "TIFF",
    "ICO": "icon (ICO)",
    "ICNS": "icon (ICNS)",
    "PSD": "Photoshop (PSD)",
    "AVIF": "AVIF",
    "HEIF": "HEIC/HEIF",
    "JPEG2000": "JPEG 2000",
    "PPM": "PPM",
    "TGA": "TGA",
    "PCX": "PCX",
    "EPS": "EPS",
    "PDF": "PDF",
    "SVG": "SVG",
}

_WHAT_TO_UPLOAD = "Please save it as a JPEG, PNG or WebP and upload it again."


# --------------------------------------------------------------------------
# Public types
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImageReport:
    """Outcome of :func:`preflight`.

    ``problems`` are refusals; ``ok`` is ``True`` exactly when there are none.
    ``warnings`` are advice about an acceptable image (they are only assessed
    when there are no problems). ``codes`` holds a stable machine-readable
    code for every problem and warning, problems first, in the same order
    (e.g. ``"animated"``, ``"too_small"``, ``"heavy_crop"``) for UI logic.

    ``width``/``height``/``aspect`` are as the picture is *displayed*, i.e.
    after EXIF orientation; ``mode`` is the source's Pillow mode (``"RGB"``,
    ``"CMYK"``, ``"P"``, ``"I;16"``, ...). Fields that could not be determined
    are ``None``.
    """

    ok: bool
    problems: list[str]
    warnings: list[str]
    codes: list[str]
    format: str | None
    width: int | None
    height: int | None
    size_bytes: int
    mode: str | None
    aspect: float | None
    exif_orientation: int = 1

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON-friendly dict (for an API response or the UI)."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class NormalisedImage:
    """An upright, 8-bit RGB, metadata-free image ready to crop or encode.

    ``image.info`` is empty: no EXIF, ICC profile, comment, DPI or XMP.
    """

    image: Image.Image
    source_format: str
    source_mode: str
    #: The EXIF orientation that was applied (1 = none).
    orientation: int = 1
    #: Transparency was composited over white.
    flattened_alpha: bool = False
    #: An embedded ICC profile was used to convert the colours to sRGB.
    colour_managed: bool = False

    @property
    def width(self) -> int:
        return self.image.width

    @property
    def height(self) -> int:
        return self.image.height

    @property
    def size(self) -> tuple[int, int]:
        return self.image.size


class ImageRejected(StudioError, ValueError):
    """Raised by the transforming functions when the bytes can't be used.

    Carries the same plain-language ``problems`` and ``codes`` a
    :func:`preflight` report would show. As a :class:`StudioError` its
    ``code`` is ``"image_" + codes[0]`` (e.g. ``"image_animated"``), its
    ``message`` all problems joined, and its HTTP ``status`` 422.
    """

    def __init__(self, problems: list[str], codes: list[str]) -> None:
        StudioError.__init__(
            self,
            code=f"image_{codes[0]}" if codes else "image_rejected",
            message=" ".join(problems),
            status=422,
        )
        self.problems = list(problems)
        self.codes = list(codes)


# --------------------------------------------------------------------------
# Internals: opening and decoding untrusted bytes
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Issue:
    code: str
    message: str


@dataclass(slots=True)
class _Inspection:
    """What we learnt from the header (and, if it got that far, the decode)."""

    problems: list[_Issue] = field(default_factory=list)
    format: str | None = None
    mode: str | None = None
    width: int | None = None  # as stored, before EXIF orientation
    height: int | None = None
    orientation: int = 1
    image: Image.Image | None = None  # fully decoded, only when no problems


@contextmanager
def _strict_decoding() -> Iterator[None]:
    """Decode with truncation errors on and Pillow's looser bomb warning off.

    ``LOAD_TRUNCATED_IMAGES`` is a Pillow process-wide flag; we only touch it
    if someone else switched it on, and put it back afterwards. Pillow's
    ``DecompressionBombWarning`` fires only above ``Image.MAX_IMAGE_PIXELS``
    (~89 MP), which our own :data:`MAX_PIXELS` check refuses anyway, with
    a better message; so the warning is silenced rather than surfaced.
    """
    previous = ImageFile.LOAD_TRUNCATED_IMAGES
    if previous:
        ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            yield
    finally:
        if previous:
            ImageFile.LOAD_TRUNCATED_IMAGES = previous


def _sniff(data: bytes) -> str | None:
    """Best guess at a file type from its first bytes, for error messages."""
    head = data[:64]
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"avif", b"avis"):
            return "AVIF"
        if brand in (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"):
            return "HEIF"
        return None
    if head.startswith(b"%PDF"):
        return "PDF"
    if head[:2] == b"BM":
        return "BMP"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if head[:4] == b"8BPS":
        return "PSD"
    text = data[:1024].lstrip().lower()
    if text.startswith((b"<svg", b"<?xml")) and b"<svg" in text:
        return "SVG"
    return None


def _quoted(filename: str | None) -> str:
    return f"\u201c{filename}\u201d" if filename else "This file"


def _format_name(fmt: str) -> str:
    return _FORMAT_NAMES.get(fmt, fmt)


def _megabytes(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB"


def _damaged(fmt: str | None) -> _Issue:
    kind = f"{_format_name(fmt)} " if fmt else ""
    return _Issue(
        "damaged",
        f"This {kind}image is damaged or incomplete: it could not be read to the end "
        "(often a download or upload that stopped part-way). Please export or download "
        "it again and re-upload.",
    )


def _unsupported(fmt: str) -> _Issue:
    if fmt == "HEIF":
        return _Issue(
            "unsupported_format",
            "This is an HEIC/HEIF photo (the iPhone default), which isn't accepted. "
            "Share or export it as a JPEG (on iPhone: Settings \u203a Camera \u203a Formats "
            "\u203a Most Compatible) and upload it again.",
        )
    return _Issue(
        "unsupported_format",
        f"{_format_name(fmt)} files aren't accepted. {_WHAT_TO_UPLOAD}",
    )


def _too_many_pixels(width: int | None, height: int | None) -> _Issue:
    if width and height:
        size = f"{width}\u00d7{height} pixels ({width * height / 1_000_000:.1f} megapixels)"
    else:
        size = "far more pixels than we can safely process"
    return _Issue(
        "too_many_pixels",
        f"The picture is enormous: {size}. The limit is {MAX_PIXELS // 1_000_000} "
        "megapixels. Please resize it (around 2000 pixels wide is plenty) and upload it "
        "again.",
    )


def _is_animated(img: Image.Image) -> bool:
    try:
        return bool(getattr(img, "is_animated", False))
    except Exception:  # noqa: BLE001 - a broken frame table is not "animated"
        return False


def _read_orientation(img: Image.Image) -> int:
    try:
        value = img.getexif().get(_EXIF_ORIENTATION_TAG, 1)
    except Exception:  # noqa: BLE001 - corrupt EXIF: treat as upright
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _inspect(data: bytes, filename: str | None) -> _Inspection:
    """Open, vet the header, and fully decode. Never raises."""
    found = _Inspection()
    if not data:
        found.problems.append(
            _Issue(
                "empty",
                f"{_quoted(filename)} is empty (0 bytes). The upload may not have finished; "
                "please choose the photo again.",
            )
        )
        return found

    with _strict_decoding():
        try:
            img = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError:
            found.problems.append(_too_many_pixels(None, None))
            return found
        except Exception:  # noqa: BLE001 - UnidentifiedImageError and friends
            sniffed = _sniff(data)
            if sniffed in ACCEPTED_FORMATS:
                found.format = sniffed
                found.problems.append(_damaged(sniffed))
            elif sniffed is not None:
                found.format = sniffed
                found.problems.append(_unsupported(sniffed))
            else:
                found.problems.append(
                    _Issue(
                        "not_image",
                        f"{_quoted(filename)} isn't an image we can read; it may be another "
                        "kind of file (a document, a text file, a video) renamed to look like "
                        "one. Please upload a JPEG, PNG or WebP photo.",
                    )
                )
            return found

        # MPO is a JPEG with extra pictures (stereo / depth) appended, as some
        # phones and cameras write. It *is* a JPEG; its frames aren't animation.
        fmt = "JPEG" if img.format == "MPO" else (img.format or "unknown")
        found.format = fmt
        found.mode = img.mode
        found.width, found.height = img.size

        if fmt != "JPEG" and _is_animated(img):
            label = {"PNG": "PNG (APNG)", "WEBP": "WebP"}.get(fmt, _format_name(fmt))
            found.problems.append(
                _Issue(
                    "animated",
                    f"This is an animated {label}. A character needs a single still picture: "
                    "take one frame (or a screenshot of it), save it as JPEG or PNG and "
                    "upload that.",
                )
            )
            return found
        if fmt not in ACCEPTED_FORMATS:
            found.problems.append(_unsupported(fmt))
            return found
        if found.width * found.height > MAX_PIXELS:
            found.problems.append(_too_many_pixels(found.width, found.height))
            return found
        if found.width < 1 or found.height < 1:
            found.problems.append(_damaged(fmt))
            return found

        try:
            img.load()  # force a full decode: truncation and corruption surface here
        except Exception:  # noqa: BLE001 - OSError, SyntaxError, ValueError, ...
            found.problems.append(_damaged(fmt))
            return found

    found.orientation = _read_orientation(img)
    found.image = img
    return found


# --------------------------------------------------------------------------
# Internals: colour and geometry
# --------------------------------------------------------------------------


def _sixteen_to_eight(img: Image.Image) -> Image.Image:
    """16-bit greyscale to 8-bit by scaling, not clipping (Pillow clips)."""
    return img.convert("I").point(lambda v: v * (1 / 256)).convert("L")


def _flatten(img: Image.Image) -> tuple[Image.Image, bool]:
    """Reduce to 8 bits and composite any transparency over white.

    Returns the image (mode RGB, CMYK, L or 1...) and whether alpha was flattened.
    """
    if img.mode in _SIXTEEN_BIT_MODES:
        img = _sixteen_to_eight(img)
        img.info.pop("transparency", None)  # a 16-bit colour key means nothing at 8 bits
    elif img.mode == "F":
        img = img.convert("L")
    if img.mode in _ALPHA_MODES or (img.mode in ("P", "L", "RGB") and "transparency" in img.info):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB"), True
    return img, False


def _to_srgb(img: Image.Image, icc: bytes | None) -> tuple[Image.Image, bool]:
    """Convert to 8-bit RGB, honouring an embedded ICC profile when possible.

    Phone photos are often Display P3 and print assets CMYK with a profile;
    dropping the profile without converting would shift their colours.
    """
    if icc and ImageCms is not None and img.mode in ("RGB", "CMYK", "L"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            description = ImageCms.getProfileDescription(source) or ""
            if not (img.mode == "RGB" and "srgb" in description.lower()):
                converted = ImageCms.profileToProfile(
                    img, source, ImageCms.createProfile("sRGB"), outputMode="RGB"
                )
                if converted is not None:
                    return converted, True
        except Exception:  # noqa: BLE001 - unusable profile: plain conversion below
            pass
    return img.convert("RGB"), False


def _normalised_from(found: _Inspection) -> NormalisedImage:
    assert found.image is not None and found.format is not None and found.mode is not None
    source = found.image
    icc = source.info.get("icc_profile")
    try:
        upright = ImageOps.exif_transpose(source)
    except Exception:  # noqa: BLE001 - EXIF Pillow can't rewrite: turn it ourselves
        method = _ORIENTATION_TRANSPOSE.get(found.orientation)
        upright = source.transpose(method) if method is not None else source.copy()
    flat, flattened = _flatten(upright)
    rgb, managed = _to_srgb(flat, icc if isinstance(icc, bytes) else None)
    if rgb is upright or rgb is source:
        rgb = rgb.copy()
    rgb.info = {}  # strip EXIF, ICC, XMP, comments, DPI: Pillow re-emits some of these
    return NormalisedImage(
        image=rgb,
        source_format=found.format,
        source_mode=found.mode,
        orientation=found.orientation,
        flattened_alpha=flattened,
        colour_managed=managed,
    )


def _exposure_warnings(img: Image.Image) -> list[_Issue]:
    if img.mode in _SIXTEEN_BIT_MODES:  # Pillow can't resize I;16
        img = _sixteen_to_eight(img)
    scale = min(1.0, _STATS_MAX_SIDE / max(img.size))
    small_size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    small = img.resize(small_size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    small, _ = _flatten(small)
    stats = ImageStat.Stat(small.convert("L"))
    mean, stddev = stats.mean[0], stats.stddev[0]
    found: list[_Issue] = []
    if mean < DARK_MEAN_LUMA:
        found.append(
            _Issue(
                "dark",
                "The picture looks very dark. A well and evenly lit face makes a much "
                "better character; consider a better-lit photo.",
            )
        )
    elif mean > BRIGHT_MEAN_LUMA:
        found.append(
            _Issue(
                "bright",
                "The picture looks very bright or washed out. Facial detail may be lost; "
                "consider a photo with softer light.",
            )
        )
    if stddev < LOW_CONTRAST_STDDEV:
        found.append(
            _Issue(
                "low_contrast",
                "The picture looks flat or hazy (very little contrast). The face may not "
                "stand out; a clearer, sharper photo will work better.",
            )
        )
    return found


def _geometry_warnings(width: int, height: int) -> list[_Issue]:
    left, top, right, bottom = crop_box(width, height)
    crop_w, crop_h = right - left, bottom - top
    stream_w, stream_h = STREAM_SIZE
    found: list[_Issue] = []
    if crop_w < stream_w or crop_h < stream_h:
        found.append(
            _Issue(
                "low_resolution",
                f"The picture is {width}\u00d7{height}. Cropped to the video's landscape "
                f"shape it is only {crop_w}\u00d7{crop_h}, smaller than the "
                f"{stream_w}\u00d7{stream_h} stream, so the character may look soft. "
                "A larger photo will look sharper.",
            )
        )
    cut = 1 - (crop_w * crop_h) / (width * height)
    if cut > HEAVY_CROP_FRACTION:
        edges = "top and bottom" if crop_h < height else "left and right sides"
        shape = "taller" if crop_h < height else "wider"
        found.append(
            _Issue(
                "heavy_crop",
                f"The picture is much {shape} than the landscape {stream_w}\u00d7{stream_h} "
                f"video: about {round(cut * 100)}% of it will be cut from the {edges}. Make "
                "sure the face is in the centre, or crop it to landscape yourself.",
            )
        )
    return found


def _policy_problems(size_bytes: int, width: int, height: int) -> list[_Issue]:
    problems: list[_Issue] = []
    if size_bytes > MAX_INPUT_BYTES:
        problems.append(
            _Issue(
                "too_large_bytes",
                f"The file is {_megabytes(size_bytes)}; the limit is "
                f"{_megabytes(MAX_INPUT_BYTES)}. Please save a smaller version (a JPEG, or "
                "resized to about 2000 pixels wide) and upload it again.",
            )
        )
    short, long_ = min(width, height), max(width, height)
    if short < MIN_SHORT_SIDE:
        problems.append(
            _Issue(
                "too_small",
                f"The picture is only {width}\u00d7{height} pixels. It needs to be at least "
                f"{MIN_SHORT_SIDE} pixels on its shorter side (ideally "
                f"{STREAM_SIZE[0]}\u00d7{STREAM_SIZE[1]} or larger). Please upload a larger "
                "version.",
            )
        )
    if long_ > MAX_ASPECT_RATIO * short:
        shape = "wide" if width > height else "tall"
        limit = "4:1" if shape == "wide" else "1:4"
        problems.append(
            _Issue(
                "extreme_aspect",
                f"The picture is extremely {shape} ({width}\u00d7{height}, about "
                f"{long_ / short:.1f}:1); the limit is {limit}. Please crop it around the "
                f"face, ideally to landscape {STREAM_SIZE[0]}\u00d7{STREAM_SIZE[1]}, and "
                "upload it again.",
            )
        )
    return problems


def _require_usable(data: bytes) -> NormalisedImage:
    found = _inspect(_as_bytes(data), None)
    if found.problems or found.image is None:
        raise ImageRejected(
            [p.message for p in found.problems] or ["The image could not be read."],
            [p.code for p in found.problems] or ["damaged"],
        )
    return _normalised_from(found)


def _as_bytes(data: object) -> bytes:
    if data is None:
        return b""
    if isinstance(data, bytes):
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    raise TypeError(f"expected image bytes, got {type(data).__name__}")


def _encode(img: Image.Image, image_format: Literal["JPEG", "PNG"], quality: int) -> bytes:
    buffer = io.BytesIO()
    if image_format == "JPEG":
        img.save(buffer, "JPEG", quality=quality)
    elif image_format == "PNG":
        img.save(buffer, "PNG")
    else:  # pragma: no cover - guarded by the Literal type
        raise ValueError(f"unsupported output format {image_format!r}")
    return buffer.getvalue()


def _crop_to(img: Image.Image, target: tuple[int, int], resize: bool,
             focus: tuple[float, float] = CENTRE) -> Image.Image:
    box = crop_box(img.width, img.height, target, focus)
    cropped = img.crop(box)
    if resize and (cropped.width > target[0] or cropped.height > target[1]):
        # reducing_gap: box-reduce big photos first, then LANCZOS (visually identical, faster)
        cropped = cropped.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return cropped


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


def preflight(data: bytes, filename: str | None = None) -> ImageReport:
    """Check an uploaded reference image before spending a processing run on it.

    Never raises on bad input. Problems (refusals): empty file, not an image,
    a format other than JPEG/PNG/WebP (HEIC gets iPhone-specific advice),
    animation, damage/truncation, more than :data:`MAX_PIXELS` pixels, more
    than :data:`MAX_INPUT_BYTES` bytes, a shorter side under
    :data:`MIN_SHORT_SIDE`, or an aspect beyond :data:`MAX_ASPECT_RATIO`.
    Warnings (only assessed when there are no problems): the centred crop is
    smaller than the stream, the crop cuts away more than
    :data:`HEAVY_CROP_FRACTION`, or the exposure looks dark, washed out or flat.
    A face check is *not* done here.
    """
    try:
        raw = _as_bytes(data)
    except Exception:  # noqa: BLE001 - not bytes-like at all
        raw = b""
    size_bytes = len(raw)
    try:
        found = _inspect(raw, filename)
        width, height = found.width, found.height
        if width is not None and height is not None and found.orientation in _SWAPS_AXES:
            width, height = height, width
        problems = list(found.problems)
        warnings_: list[_Issue] = []
        if not problems and width is not None and height is not None:
            problems = _policy_problems(size_bytes, width, height)
            if not problems and found.image is not None:
                warnings_ = _geometry_warnings(width, height) + _exposure_warnings(found.image)
    except Exception:  # noqa: BLE001 - the contract is "never raises"
        return ImageReport(
            ok=False,
            problems=["We couldn't check this image. Please try a different JPEG or PNG file."],
            warnings=[],
            codes=["unreadable"],
            format=None,
            width=None,
            height=None,
            size_bytes=size_bytes,
            mode=None,
            aspect=None,
        )
    return ImageReport(
        ok=not problems,
        problems=[p.message for p in problems],
        warnings=[w.message for w in warnings_],
        codes=[p.code for p in problems] + [w.code for w in warnings_],
        format=found.format,
        width=width,
        height=height,
        size_bytes=size_bytes,
        mode=found.mode,
        aspect=(width / height) if width and height else None,
        exif_orientation=found.orientation,
    )


def normalise(data: bytes) -> NormalisedImage:
    """Decode to an upright, 8-bit sRGB image with no metadata.

    Applies EXIF orientation; converts CMYK, palette, greyscale, LA/RGBA and
    16-bit images to RGB (transparency composited over white, 16-bit scaled
    to 8-bit, embedded ICC profiles converted to sRGB); drops EXIF, ICC, XMP,
    comments and DPI. Raises :class:`ImageRejected` for anything
    :func:`preflight` would refuse as unreadable (empty, not an image, wrong
    format, animated, damaged, over :data:`MAX_PIXELS`). It does *not* apply
    the size, byte or aspect policy: call :func:`preflight` for that.
    """
    return _require_usable(data)


def crop_box(
    width: int, height: int, target: tuple[int, int] = STREAM_SIZE,
    focus: tuple[float, float] = CENTRE,
) -> tuple[int, int, int, int]:
    """Largest box with the target's aspect ratio, as (left, top, right, bottom).

    ``focus`` places the box where the picture has spare pixels: (x, y) from 0 (the box
    touches the left / top edge) to 1 (the right / bottom edge); the default, the centre,
    is what a portrait keeps when nobody moves it. Values outside 0..1 are clamped.

    Integer geometry: the side that limits the box is kept whole; the other is
    the limiting side scaled by the target ratio, rounded to the nearest pixel
    (halves round up) and capped to the image. When the spare pixels are odd,
    the extra one is left at the right / bottom. An image already at the
    target ratio returns ``(0, 0, width, height)``.
    """
    target_w, target_h = target
    if min(width, height, target_w, target_h) < 1:
        raise ValueError(f"sizes must be positive, got {width}x{height} -> {target_w}x{target_h}")
    if width * target_h >= height * target_w:  # wider than the target: keep full height
        box_h = height
        box_w = min(width, max(1, (2 * height * target_w + target_h) // (2 * target_h)))
    else:  # taller than the target: keep full width
        box_w = width
        box_h = min(height, max(1, (2 * width * target_h + target_w) // (2 * target_w)))
    fx, fy = (min(1.0, max(0.0, float(f))) for f in focus)
    left = int((width - box_w) * fx)  # the centre: (spare) // 2, the extra pixel right/bottom
    top = int((height - box_h) * fy)
    return left, top, left + box_w, top + box_h


def centre_crop(
    data: bytes,
    target: tuple[int, int] = STREAM_SIZE,
    resize: bool = True,
    *,
    image_format: Literal["JPEG", "PNG"] = "JPEG",
    focus: tuple[float, float] = CENTRE,
) -> bytes:
    """Normalise, crop to the target's shape around the centre, encode.

    With ``resize`` the crop is scaled down (LANCZOS) to exactly ``target``
    when larger; it is never scaled up, so small images keep their crop's
    size (and the target's aspect, to within a pixel). JPEG quality is
    :data:`JPEG_QUALITY`. Raises :class:`ImageRejected` like :func:`normalise`.
    """
    image = _crop_to(normalise(data).image, target, resize, focus)
    return _encode(image, image_format, JPEG_QUALITY)


def crop_preview(
    data: bytes, max_width: int = PREVIEW_MAX_WIDTH, target: tuple[int, int] = STREAM_SIZE,
    focus: tuple[float, float] = CENTRE,
) -> bytes:
    """Small JPEG of exactly what :func:`centre_crop` would stream, for the UI.

    At most ``max_width`` pixels wide (never upscaled), target aspect.
    """
    if max_width < 1:
        raise ValueError("max_width must be positive")
    image = _crop_to(normalise(data).image, target, resize=True, focus=focus)
    if image.width > max_width:
        height = max(1, round(image.height * max_width / image.width))
        image = image.resize((max_width, height), Image.Resampling.LANCZOS)
    return _encode(image, "JPEG", PREVIEW_JPEG_QUALITY)


def safe_filename(filename: str | None, extension: str) -> str:
    """ASCII-only ``stem.extension`` derived from a user-supplied name.

    Drops any directory part and the original extension, transliterates
    accents (``Zoë`` -> ``Zoe``), turns everything outside ``[A-Za-z0-9_-]``
    (dots included, so no ``x.php.jpg``) into ``-``, and falls back to
    ``character`` when nothing is left. ``extension`` is given without a dot.
    """
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "-", ascii_stem).strip("-_")[:_MAX_STEM_CHARS]
    cleaned = cleaned.strip("-_") or "character"
    return f"{cleaned}.{extension.lstrip('.').lower()}"


def to_upload(
    data: bytes,
    filename: str | None = None,
    *,
    crop: bool = False,
    max_side: int | None = UPLOAD_MAX_SIDE,
    focus: tuple[float, float] = CENTRE,
) -> tuple[str, bytes]:
    """What we send to Runway: ``(safe filename, image bytes)``.

    The image is normalised (upright, sRGB, no metadata), optionally
    centre-cropped to the stream (``crop=True``, scaled to 1088x704 when
    larger), scaled down so its longer side is at most ``max_side`` (``None``
    disables), and encoded as JPEG q92. Should that come out under
    :data:`MIN_UPLOAD_BYTES` it is re-encoded as PNG, never padded; if even
    that is too small, or the result exceeds :data:`MAX_INPUT_BYTES`,
    :class:`ImageRejected` is raised. Run :func:`preflight` first: this
    function does not apply the size/aspect policy.
    """
    image = normalise(data).image
    if crop:
        image = _crop_to(image, STREAM_SIZE, resize=True, focus=focus)
    if max_side is not None and max(image.size) > max_side:
        image = image.copy()
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    encoded = _encode(image, "JPEG", JPEG_QUALITY)
    extension = "jpg"
    if len(encoded) < MIN_UPLOAD_BYTES:
        encoded, extension = _encode(image, "PNG", JPEG_QUALITY), "png"
    if len(encoded) < MIN_UPLOAD_BYTES:
        raise ImageRejected(
            [
                f"The picture is too small to upload ({len(encoded)} bytes; Runway needs at "
                f"least {MIN_UPLOAD_BYTES}). Please use a larger photo."
            ],
            ["too_small"],
        )
    if len(encoded) > MAX_INPUT_BYTES:
        raise ImageRejected(
            [
                f"Even after re-encoding the picture is {_megabytes(len(encoded))}; the limit is "
                f"{_megabytes(MAX_INPUT_BYTES)}. Please upload a smaller version."
            ],
            ["too_large_bytes"],
        )
    return safe_filename(filename, extension), encoded
