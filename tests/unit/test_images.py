"""Tests for studio.catalog.images: reference-image preflight and preparation.

Every image is generated in memory with Pillow; nothing touches the disk.
"""

from __future__ import annotations

import ast
import inspect
import io
import os
import struct
import warnings
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageCms, ImageFile

from studio.catalog import images
from studio.catalog.images import (
    MAX_INPUT_BYTES,
    MAX_PIXELS,
    MIN_SHORT_SIDE,
    STREAM_SIZE,
    ImageRejected,
    ImageReport,
    NormalisedImage,
    centre_crop,
    crop_box,
    crop_preview,
    normalise,
    preflight,
    safe_filename,
    to_upload,
)
from studio.errors import StudioError

RED = (255, 0, 0)
GREEN = (0, 255, 0)
BLUE = (0, 0, 255)
YELLOW = (255, 255, 0)
WHITE = (255, 255, 255)


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def encode(img: Image.Image, fmt: str = "JPEG", **params: object) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, fmt, **params)
    return buffer.getvalue()


def photo(width: int, height: int) -> Image.Image:
    """A stand-in for a decent photo: smooth gradients, mid exposure, real contrast."""
    ramp = Image.linear_gradient("L")
    return Image.merge(
        "RGB",
        (
            ramp.resize((width, height), Image.Resampling.NEAREST),
            ramp.rotate(90).resize((width, height), Image.Resampling.NEAREST),
            Image.new("L", (width, height), 128),
        ),
    )


def quadrants(width: int, height: int) -> Image.Image:
    """Red / green on top, blue / yellow at the bottom, so orientation is visible."""
    img = Image.new("RGB", (width, height))
    half_w, half_h = width // 2, height // 2
    img.paste(RED, (0, 0, half_w, half_h))
    img.paste(GREEN, (half_w, 0, width, half_h))
    img.paste(BLUE, (0, half_h, half_w, height))
    img.paste(YELLOW, (half_w, half_h, width, height))
    return img


def corners(img: Image.Image, inset: int = 10) -> tuple[tuple[int, ...], ...]:
    """Pixel colours near the top-left, top-right, bottom-left, bottom-right."""
    w, h = img.size
    return tuple(
        img.getpixel(xy)
        for xy in ((inset, inset), (w - inset, inset), (inset, h - inset), (w - inset, h - inset))
    )


def close_to(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 40) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


def noise(width: int, height: int) -> Image.Image:
    return Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))


def png_header_only(width: int, height: int) -> bytes:
    """A valid PNG signature + IHDR claiming any size, with no pixel data (~60 bytes)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def animated(fmt: str) -> bytes:
    frames = [Image.new("RGB", (400, 400), colour) for colour in (RED, BLUE, GREEN)]
    return encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)


def exif_jpeg(img: Image.Image, orientation: int | None = None, **tags: object) -> bytes:
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    exif[0x010F] = "SecretCamCo"  # Make
    exif[0x0110] = "Spyphone 9"  # Model
    return encode(img, "JPEG", quality=95, exif=exif.tobytes(), **tags)


def decode(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


GOOD_JPEG = encode(photo(1100, 720), "JPEG", quality=90)


# --------------------------------------------------------------------------
# Module hygiene
# --------------------------------------------------------------------------


def test_domain_module_imports_no_web_framework() -> None:
    source = Path(images.__file__).read_text(encoding="utf-8")
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & {"gradio", "fastapi", "starlette"}


def test_constants_match_the_runway_stream_and_limits() -> None:
    assert STREAM_SIZE == (1088, 704)
    assert images.MAX_URL_BYTES == 16_000_000 == MAX_INPUT_BYTES
    assert images.MAX_DATA_URI_BYTES == 5_000_000
    assert images.MIN_UPLOAD_BYTES == 512
    assert images.MAX_UPLOAD_BYTES == 200_000_000
    assert MAX_PIXELS == 40_000_000
    assert MIN_SHORT_SIDE == 256
    assert images.ACCEPTED_FORMATS == {"JPEG", "PNG", "WEBP"}


# --------------------------------------------------------------------------
# preflight: acceptance
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "params", "expected_format"),
    [
        ("JPEG", {"quality": 90}, "JPEG"),
        ("PNG", {}, "PNG"),
        ("WEBP", {"quality": 90, "method": 0}, "WEBP"),
    ],
)
def test_good_image_passes_with_no_warnings(fmt: str, params: dict, expected_format: str) -> None:
    data = encode(photo(1088, 704), fmt, **params)
    report = preflight(data, f"portrait.{fmt.lower()}")
    assert isinstance(report, ImageReport)
    assert report.ok, report.problems
    assert report.problems == [] and report.warnings == [] and report.codes == []
    assert report.format == expected_format
    assert (report.width, report.height) == (1088, 704)
    assert report.mode == "RGB"
    assert report.size_bytes == len(data)
    assert report.aspect == pytest.approx(1088 / 704)
    assert report.to_dict()["ok"] is True


@pytest.mark.parametrize(
    "bad_input",
    [None, b"", bytearray(b"hello"), b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", os.urandom(4096), 42],
    ids=["none", "empty", "bytearray", "jpeg-magic-only", "png-magic-only", "random", "int"],
)
def test_preflight_never_raises(bad_input: object) -> None:
    report = preflight(bad_input)  # type: ignore[arg-type]
    assert report.ok is False
    assert report.problems and all(isinstance(p, str) and p for p in report.problems)


# --------------------------------------------------------------------------
# preflight: refusals
# --------------------------------------------------------------------------


def test_refuses_empty_file() -> None:
    report = preflight(b"", "me.jpg")
    assert not report.ok
    assert report.codes == ["empty"]
    assert "empty" in report.problems[0] and "0 bytes" in report.problems[0]
    assert report.size_bytes == 0


def test_refuses_text_file_renamed_to_jpg() -> None:
    report = preflight(b"Dear diary, today I made a character.\n" * 40, "notes.jpg")
    assert not report.ok
    assert report.codes == ["not_image"]
    assert "notes.jpg" in report.problems[0]
    assert "isn't an image" in report.problems[0]
    assert "JPEG, PNG or WebP" in report.problems[0]


@pytest.mark.parametrize(
    ("fmt", "name"),
    [("GIF", "GIF"), ("BMP", "BMP"), ("TIFF", "TIFF")],
)
def test_refuses_formats_outside_jpeg_png_webp(fmt: str, name: str) -> None:
    report = preflight(encode(quadrants(400, 300), fmt), f"face.{fmt.lower()}")
    assert not report.ok
    assert report.codes == ["unsupported_format"]
    assert report.format == fmt
    assert name in report.problems[0] and "aren't accepted" in report.problems[0]
    assert "JPEG, PNG or WebP" in report.problems[0]


def test_refuses_heic_with_iphone_advice() -> None:
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    report = preflight(heic, "IMG_0042.HEIC")
    assert not report.ok
    assert report.codes == ["unsupported_format"]
    assert "HEIC" in report.problems[0] and "JPEG" in report.problems[0]


@pytest.mark.parametrize(
    ("fmt", "label"),
    [("GIF", "animated GIF"), ("WEBP", "animated WebP"), ("PNG", "animated PNG (APNG)")],
)
def test_refuses_animation_and_says_so(fmt: str, label: str) -> None:
    report = preflight(animated(fmt), f"dance.{fmt.lower()}")
    assert not report.ok
    assert report.codes == ["animated"]
    assert label in report.problems[0]
    assert "single still picture" in report.problems[0]


def test_multi_picture_jpeg_from_a_phone_is_not_animation() -> None:
    # MPO = a JPEG with extra pictures (depth map, stereo pair) appended.
    frames = [photo(600, 400), Image.new("RGB", (600, 400), BLUE)]
    data = encode(frames[0], "MPO", save_all=True, append_images=frames[1:], quality=90)
    assert Image.open(io.BytesIO(data)).format == "MPO"
    report = preflight(data, "depth.jpg")
    assert report.ok, report.problems
    assert report.format == "JPEG"
    assert normalise(data).image.size == (600, 400)


def _truncated(fmt: str) -> bytes:
    data = encode(noise(300, 200), fmt, **({"quality": 90} if fmt != "PNG" else {}))
    return data[: len(data) // 2]


@pytest.mark.parametrize(("fmt", "name"), [("JPEG", "JPEG"), ("PNG", "PNG"), ("WEBP", "WebP")])
def test_refuses_truncated_image(fmt: str, name: str) -> None:
    report = preflight(_truncated(fmt), f"half.{fmt.lower()}")
    assert not report.ok
    assert report.codes == ["damaged"]
    assert f"This {name} image is damaged or incomplete" in report.problems[0]


def test_truncation_is_caught_even_if_someone_enabled_load_truncated_images(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    report = preflight(_truncated("JPEG"), "half.jpg")
    assert report.codes == ["damaged"]
    with pytest.raises(ImageRejected):
        normalise(_truncated("PNG"))
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # their setting is put back


def test_load_truncated_images_stays_off_by_default() -> None:
    preflight(_truncated("JPEG"))
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


@pytest.mark.parametrize(
    ("width", "height", "mentions"),
    [
        (50_000, 50_000, "far more pixels"),  # Pillow's own DecompressionBombError path
        (10_000, 10_000, "10000\u00d710000"),  # Pillow's DecompressionBombWarning range
        (7_000, 7_000, "7000\u00d77000"),  # only our 40 MP cap catches this
        (MAX_PIXELS + 1, 1, "megapixels"),  # one pixel over the cap
    ],
)
def test_refuses_decompression_bombs_from_the_header(
    width: int, height: int, mentions: str
) -> None:
    data = png_header_only(width, height)  # ~60 bytes: nothing is ever decoded
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        report = preflight(data, "bomb.png")
    assert not report.ok
    assert report.codes == ["too_many_pixels"]
    assert "enormous" in report.problems[0] and mentions in report.problems[0]
    assert "40 megapixels" in report.problems[0]
    with pytest.raises(ImageRejected) as raised:
        normalise(data)
    assert raised.value.codes == ["too_many_pixels"]


def test_exactly_the_pixel_cap_is_not_a_bomb() -> None:
    # 8000x5000 = 40 MP exactly: allowed past the cap, then found to have no pixel data.
    report = preflight(png_header_only(8000, 5000))
    assert "too_many_pixels" not in report.codes
    assert report.codes == ["damaged"]


def _padded_jpeg(total_size: int) -> bytes:
    # Bytes after the JPEG end-of-image marker are ignored by decoders.
    return GOOD_JPEG + b"\x00" * (total_size - len(GOOD_JPEG))


def test_file_of_exactly_16_mb_is_accepted() -> None:
    report = preflight(_padded_jpeg(MAX_INPUT_BYTES), "big.jpg")
    assert report.ok, report.problems
    assert report.size_bytes == 16_000_000


def test_file_one_byte_over_16_mb_is_refused() -> None:
    report = preflight(_padded_jpeg(MAX_INPUT_BYTES + 1), "big.jpg")
    assert not report.ok
    assert report.codes == ["too_large_bytes"]
    assert "16.0 MB" in report.problems[0] and "limit" in report.problems[0]


@pytest.mark.parametrize(
    ("size", "ok"),
    [((256, 256), True), ((255, 400), False), ((400, 255), False), ((100, 80), False)],
)
def test_minimum_short_side_boundary(size: tuple[int, int], ok: bool) -> None:
    report = preflight(encode(photo(*size), "JPEG"))
    assert report.ok is ok
    if not ok:
        assert report.codes == ["too_small"]
        assert f"only {size[0]}\u00d7{size[1]} pixels" in report.problems[0]
        assert "at least 256 pixels" in report.problems[0]
    else:
        assert "low_resolution" in report.codes  # accepted, but told it will look soft


@pytest.mark.parametrize(
    ("size", "ok", "word"),
    [
        ((1024, 256), True, ""),  # exactly 4:1
        ((256, 1024), True, ""),  # exactly 1:4
        ((1025, 256), False, "extremely wide"),
        ((256, 1025), False, "extremely tall"),
        ((1300, 300), False, "extremely wide"),
    ],
)
def test_extreme_aspect_boundary(size: tuple[int, int], ok: bool, word: str) -> None:
    report = preflight(encode(photo(*size), "JPEG"))
    assert report.ok is ok
    if not ok:
        assert report.codes == ["extreme_aspect"]
        assert word in report.problems[0]
        assert ("4:1" if "wide" in word else "1:4") in report.problems[0]


# --------------------------------------------------------------------------
# preflight: warnings
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "soft"),
    [
        ((1088, 704), False),
        ((1087, 704), True),  # crop is 1087x703
        ((1088, 703), True),
        ((1000, 1000), True),  # short side >= 704, but its landscape crop is 1000x647
        ((1200, 800), False),
    ],
)
def test_low_resolution_warning(size: tuple[int, int], soft: bool) -> None:
    report = preflight(encode(photo(*size), "JPEG"))
    assert report.ok
    assert ("low_resolution" in report.codes) is soft
    if soft:
        warning = report.warnings[report.codes.index("low_resolution")]
        assert "look soft" in warning and "1088\u00d7704" in warning


def test_portrait_photo_warns_about_heavy_crop() -> None:
    report = preflight(encode(photo(1200, 1800), "JPEG"), "selfie.jpg")
    assert report.ok
    assert report.codes == ["heavy_crop"]
    assert "much taller" in report.warnings[0] and "top and bottom" in report.warnings[0]
    assert "57%" in report.warnings[0]  # crop keeps 1200x777 of 1200x1800


def test_panorama_warns_about_losing_the_sides() -> None:
    report = preflight(encode(photo(1500, 500), "JPEG"), "pano.jpg")
    assert report.ok
    assert report.codes == ["low_resolution", "heavy_crop"]
    assert "much wider" in report.warnings[1] and "left and right" in report.warnings[1]


@pytest.mark.parametrize("size", [(1600, 1200), (1920, 1080)], ids=["4:3", "16:9"])
def test_ordinary_landscape_photos_are_not_warned_about_cropping(size: tuple[int, int]) -> None:
    assert "heavy_crop" not in preflight(encode(photo(*size), "JPEG")).codes


@pytest.mark.parametrize(
    ("colour", "expected"),
    [((20, 20, 25), {"dark", "low_contrast"}), ((250, 250, 250), {"bright", "low_contrast"})],
)
def test_exposure_warnings(colour: tuple[int, int, int], expected: set[str]) -> None:
    report = preflight(encode(Image.new("RGB", (1200, 780), colour), "JPEG"))
    assert report.ok  # advice, not a refusal
    assert set(report.codes) == expected
    text = " ".join(report.warnings)
    assert ("dark" in text) is ("dark" in expected)
    assert ("bright" in text) is ("bright" in expected)
    assert "contrast" in text


def test_warnings_are_not_added_to_refused_images() -> None:
    report = preflight(encode(Image.new("RGB", (200, 100), (5, 5, 5)), "PNG"))
    assert report.codes == ["too_small"]
    assert report.warnings == []


# --------------------------------------------------------------------------
# EXIF orientation
# --------------------------------------------------------------------------

# Stored picture: red | green over blue | yellow. Expected on screen (TL, TR, BL, BR).
ORIENTED = {
    1: (RED, GREEN, BLUE, YELLOW),
    2: (GREEN, RED, YELLOW, BLUE),  # mirrored left-right
    3: (YELLOW, BLUE, GREEN, RED),  # rotated 180
    4: (BLUE, YELLOW, RED, GREEN),  # mirrored top-bottom
    5: (RED, BLUE, GREEN, YELLOW),  # transposed
    6: (BLUE, RED, YELLOW, GREEN),  # rotated 90 clockwise (the usual phone portrait)
    7: (YELLOW, GREEN, BLUE, RED),  # transversed
    8: (GREEN, YELLOW, RED, BLUE),  # rotated 90 anticlockwise
}


def test_phone_portrait_orientation_6_is_reported_and_applied() -> None:
    data = exif_jpeg(quadrants(300, 200), orientation=6)
    report = preflight(data, "IMG_1234.JPG")
    assert (report.width, report.height) == (200, 300)
    assert report.aspect == pytest.approx(200 / 300)
    assert report.exif_orientation == 6
    norm = normalise(data)
    assert isinstance(norm, NormalisedImage)
    assert norm.size == (200, 300) and norm.orientation == 6
    tl, tr, bl, br = corners(norm.image)
    # Stored top-left red ends up top-right: the picture was turned clockwise.
    assert close_to(tl, BLUE) and close_to(tr, RED)
    assert close_to(bl, YELLOW) and close_to(br, GREEN)


@pytest.mark.parametrize("orientation", sorted(ORIENTED))
def test_every_exif_orientation(orientation: int) -> None:
    data = exif_jpeg(quadrants(300, 200), orientation=orientation)
    expected_size = (200, 300) if orientation >= 5 else (300, 200)
    report = preflight(data)
    assert (report.width, report.height) == expected_size
    image = normalise(data).image
    assert image.size == expected_size
    for actual, expected in zip(corners(image), ORIENTED[orientation], strict=True):
        assert close_to(actual, expected), (orientation, corners(image))


def test_orientation_is_still_applied_if_pillow_cannot_rewrite_the_exif(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(_image: Image.Image) -> Image.Image:
        raise ValueError("malformed EXIF")

    monkeypatch.setattr(images.ImageOps, "exif_transpose", broken)
    image = normalise(exif_jpeg(quadrants(300, 200), orientation=6)).image
    assert image.size == (200, 300)
    for actual, expected in zip(corners(image), ORIENTED[6], strict=True):
        assert close_to(actual, expected)


# --------------------------------------------------------------------------
# Colour modes
# --------------------------------------------------------------------------


def test_cmyk_jpeg_from_print_becomes_rgb() -> None:
    cmyk = Image.new("CMYK", (600, 400), (255, 0, 0, 0))  # pure cyan ink
    cmyk.paste((0, 0, 0, 255), (0, 200, 600, 400))  # black ink, bottom half
    data = encode(cmyk, "JPEG", quality=95)
    report = preflight(data, "poster.jpg")
    assert report.ok and report.mode == "CMYK"
    image = normalise(data).image
    assert image.mode == "RGB"
    assert close_to(image.getpixel((300, 50)), (0, 255, 255))
    assert close_to(image.getpixel((300, 350)), (0, 0, 0))


def test_palette_png_with_transparency_is_composited_over_white() -> None:
    img = Image.new("P", (400, 300), 0)
    img.putpalette([0, 0, 0, 255, 0, 0] + [0] * (254 * 3))
    img.paste(1, (200, 0, 400, 300))  # right half opaque red, left half index 0
    data = encode(img, "PNG", transparency=0)  # index 0 (black) is transparent
    report = preflight(data, "sticker.png")
    assert report.ok and report.mode == "P"
    norm = normalise(data)
    assert norm.image.mode == "RGB" and norm.flattened_alpha
    assert norm.image.getpixel((50, 150)) == WHITE  # not black
    assert norm.image.getpixel((350, 150)) == RED


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_alpha_is_composited_over_white(mode: str) -> None:
    img = Image.new("RGBA", (400, 300), (0, 0, 0, 0))  # fully transparent black
    img.paste((200, 200, 200, 128), (200, 0, 400, 300))  # half-transparent light grey
    data = encode(img.convert(mode), "PNG")
    report = preflight(data, "screenshot.png")
    assert report.ok and report.mode == mode
    image = normalise(data).image
    assert image.mode == "RGB"
    assert image.getpixel((50, 150)) == WHITE
    assert close_to(image.getpixel((350, 150)), (227, 227, 227), tolerance=2)


def test_sixteen_bit_greyscale_png_is_scaled_not_clipped() -> None:
    img = Image.new("I;16", (400, 300), 0x8000)  # 50% grey at 16 bits
    img.paste(0xFFFF, (200, 0, 400, 300))
    data = encode(img, "PNG")
    report = preflight(data, "scan.png")
    assert report.ok and report.mode == "I;16"
    image = normalise(data).image
    assert image.mode == "RGB"
    assert image.getpixel((50, 150)) == (128, 128, 128)  # clipping would give white
    assert image.getpixel((350, 150)) == (255, 255, 255)


def test_webp_with_alpha_is_flattened() -> None:
    img = Image.new("RGBA", (400, 300), (0, 0, 255, 0))
    data = encode(img, "WEBP", lossless=True)
    assert normalise(data).image.getpixel((10, 10)) == WHITE


def test_srgb_icc_profile_is_dropped_without_changing_colours() -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode(quadrants(400, 300), "PNG", icc_profile=icc)
    norm = normalise(data)
    assert "icc_profile" not in norm.image.info
    assert corners(norm.image) == (RED, GREEN, BLUE, YELLOW)


# --------------------------------------------------------------------------
# Crop geometry
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "box"),
    [
        ((1088, 704), (0, 0, 1088, 704)),  # exact ratio and size
        ((2176, 1408), (0, 0, 2176, 1408)),  # exact ratio, larger
        ((17, 11), (0, 0, 17, 11)),  # exact ratio, tiny
        ((1920, 1080), (125, 0, 1794, 1080)),  # landscape 16:9: trim the sides
        ((4000, 3000), (0, 206, 4000, 2794)),  # landscape 4:3: trim top and bottom
        ((1080, 1920), (0, 610, 1080, 1309)),  # portrait: trim top and bottom
        ((1000, 1000), (0, 176, 1000, 823)),  # square
        ((1089, 704), (0, 0, 1088, 704)),  # one too wide: odd spare pixel on the right
        ((1090, 704), (1, 0, 1089, 704)),  # two too wide: one each side
        ((1088, 705), (0, 0, 1088, 704)),  # one too tall: spare pixel at the bottom
        ((1088, 706), (0, 1, 1088, 705)),
        ((1087, 704), (0, 0, 1087, 703)),  # one too narrow: 1087 * 11/17 rounds to 703
        ((1088, 703), (1, 0, 1087, 703)),  # one too short: 703 * 17/11 rounds to 1086
        ((1, 1), (0, 0, 1, 1)),
        ((10_000, 1), (4999, 0, 5001, 1)),  # 1 * 17/11 rounds to 2
    ],
)
def test_crop_box_geometry(size: tuple[int, int], box: tuple[int, int, int, int]) -> None:
    assert crop_box(*size) == box


def test_crop_box_with_custom_target() -> None:
    assert crop_box(300, 200, (100, 100)) == (50, 0, 250, 200)
    assert crop_box(200, 300, target=(1, 2)) == (25, 0, 175, 300)


@pytest.mark.parametrize("bad", [(0, 100), (100, 0), (-5, 10)])
def test_crop_box_rejects_empty_sizes(bad: tuple[int, int]) -> None:
    with pytest.raises(ValueError):
        crop_box(*bad)


def test_crop_box_invariants_over_many_sizes() -> None:
    tw, th = STREAM_SIZE
    for width in range(300, 2400, 37):
        for height in range(300, 2400, 41):
            left, top, right, bottom = crop_box(width, height)
            bw, bh = right - left, bottom - top
            assert 0 <= left and 0 <= top and right <= width and bottom <= height
            assert bw == width or bh == height  # as large as possible
            assert left == (width - bw) // 2 and top == (height - bh) // 2  # centred
            # Aspect is the target's to within half a pixel of rounding.
            if bh == height:
                assert abs(bw * th - bh * tw) <= th / 2
            else:
                assert abs(bh * tw - bw * th) <= tw / 2


# --------------------------------------------------------------------------
# centre_crop and preview
# --------------------------------------------------------------------------


def test_centre_crop_of_large_image_is_exactly_the_stream_size() -> None:
    out = centre_crop(encode(photo(1100, 900), "JPEG"))
    image = decode(out)
    assert image.format == "JPEG" and image.mode == "RGB"
    assert image.size == (1088, 704)


def test_centre_crop_keeps_the_centre_and_drops_the_edges() -> None:
    img = Image.new("RGB", (1400, 800), GREEN)  # crop_box keeps x = 82 .. 1318
    img.paste(RED, (0, 0, 60, 800))  # red bands at the far left and right
    img.paste(RED, (1340, 0, 1400, 800))
    image = decode(centre_crop(encode(img, "JPEG", quality=90)))
    assert image.size == (1088, 704)
    for colour in corners(image, inset=3):
        assert close_to(colour, GREEN)


def test_centre_crop_never_upscales_small_images() -> None:
    image = decode(centre_crop(encode(photo(800, 600), "PNG")))
    assert image.size == (800, 518)  # crop_box(800, 600) = 800 x 518, kept as is
    assert image.width / image.height == pytest.approx(1088 / 704, rel=0.002)


def test_centre_crop_without_resize_keeps_the_crop_size() -> None:
    image = decode(centre_crop(encode(photo(1100, 900), "JPEG"), resize=False))
    assert image.size == (1100, 712)  # crop_box(1100, 900): 1100 x round(711.76)


def test_centre_crop_can_encode_png() -> None:
    image = decode(centre_crop(encode(photo(600, 400), "JPEG"), image_format="PNG"))
    assert image.format == "PNG" and image.size == (600, 388)


def test_centre_crop_applies_orientation_first() -> None:
    # A phone portrait: stored 1800x1200 landscape, displayed 1200x1800.
    data = exif_jpeg(quadrants(1800, 1200), orientation=6)
    image = decode(centre_crop(data))
    assert image.size == (1088, 704)
    # Displayed picture is blue|red over yellow|green; the crop spans the middle rows,
    # so the left side shows the blue/yellow boundary column, the right the red/green.
    assert close_to(image.getpixel((20, 20)), BLUE)
    assert close_to(image.getpixel((1068, 20)), RED)
    assert close_to(image.getpixel((20, 684)), YELLOW)
    assert close_to(image.getpixel((1068, 684)), GREEN)


def test_crop_preview_is_small_and_stream_shaped() -> None:
    image = decode(crop_preview(encode(photo(1100, 900), "JPEG")))
    assert image.size == (544, 352)
    small = decode(crop_preview(encode(photo(400, 300), "PNG")))
    assert small.size == (400, 259)  # never upscaled


def test_transforms_refuse_unusable_input() -> None:
    for bad, code in [(b"", "empty"), (animated("GIF"), "animated"), (b"hello" * 200, "not_image")]:
        for transform in (normalise, centre_crop, crop_preview):
            with pytest.raises(ImageRejected) as raised:
                transform(bad)
            assert raised.value.codes == [code]
            assert str(raised.value) == " ".join(raised.value.problems)
            assert isinstance(raised.value, StudioError) and isinstance(raised.value, ValueError)
            assert raised.value.code == f"image_{code}" and raised.value.status == 422


# --------------------------------------------------------------------------
# Metadata stripping
# --------------------------------------------------------------------------


def _assert_no_metadata(data: bytes) -> None:
    image = decode(data)
    assert not {"exif", "icc_profile", "comment", "xmp", "XML:com.adobe.xmp"} & set(image.info)
    assert len(image.getexif()) == 0
    assert b"Exif\x00\x00" not in data
    assert b"SecretCamCo" not in data and b"Spyphone" not in data


def test_metadata_is_stripped_everywhere() -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    source = exif_jpeg(
        photo(600, 400), orientation=1, comment=b"SecretCamCo owner", icc_profile=icc
    )
    original = decode(source)
    assert "exif" in original.info and "comment" in original.info  # the test really has some
    assert normalise(source).image.info == {}
    _assert_no_metadata(centre_crop(source))
    _assert_no_metadata(centre_crop(source, image_format="PNG"))
    _assert_no_metadata(crop_preview(source))
    _assert_no_metadata(to_upload(source, "me.jpg")[1])


# --------------------------------------------------------------------------
# to_upload and filenames
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("portrait.png", "portrait.jpg"),
        ("Zo\u00eb's photo (1).HEIC.jpeg", "Zoe-s-photo-1-HEIC.jpg"),
        ("C:\\Users\\ana\\Desktop\\Me.JPG", "Me.jpg"),
        ("../../etc/passwd", "passwd.jpg"),
        (".hidden", "hidden.jpg"),
        ("\u5199\u771f.webp", "character.jpg"),  # nothing ASCII left
        ("", "character.jpg"),
        (None, "character.jpg"),
        ("a" * 200 + ".png", "a" * 64 + ".jpg"),
    ],
)
def test_safe_filename(given: str | None, expected: str) -> None:
    assert safe_filename(given, "jpg") == expected


def test_to_upload_sends_a_clean_jpeg_with_a_safe_name() -> None:
    name, data = to_upload(encode(photo(600, 400), "PNG"), "My Face.png")
    assert name == "My-Face.jpg"
    assert len(data) >= images.MIN_UPLOAD_BYTES
    image = decode(data)
    assert image.format == "JPEG" and image.mode == "RGB" and image.size == (600, 400)


def test_to_upload_is_upright_and_can_crop_to_the_stream() -> None:
    source = exif_jpeg(quadrants(1800, 1200), orientation=6)
    name, data = to_upload(source, "IMG_0001.JPG")
    assert name == "IMG_0001.jpg" and decode(data).size == (1200, 1800)
    _, cropped = to_upload(source, "IMG_0001.JPG", crop=True)
    assert decode(cropped).size == (1088, 704)


def test_to_upload_scales_huge_images_down() -> None:
    default = inspect.signature(to_upload).parameters["max_side"].default
    assert default == images.UPLOAD_MAX_SIDE == 4096
    source = encode(photo(1200, 600), "JPEG")
    _, data = to_upload(source, "pano.jpg", max_side=500)
    assert decode(data).size == (500, 250)
    _, full = to_upload(source, "pano.jpg", max_side=None)
    assert decode(full).size == (1200, 600)


def test_to_upload_falls_back_to_png_instead_of_padding(monkeypatch: pytest.MonkeyPatch) -> None:
    img = noise(64, 64)
    jpeg_size = len(encode(img, "JPEG", quality=images.JPEG_QUALITY))
    monkeypatch.setattr(images, "MIN_UPLOAD_BYTES", jpeg_size + 1)
    name, data = to_upload(encode(img, "PNG"), "tiny.png")
    assert name == "tiny.png"
    assert data.startswith(b"\x89PNG") and data.endswith(b"IEND\xaeB`\x82")  # no padding
    assert decode(data).tobytes() == img.tobytes()  # lossless


def test_to_upload_refuses_rather_than_pads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(images, "MIN_UPLOAD_BYTES", 1_000_000)
    with pytest.raises(ImageRejected) as raised:
        to_upload(encode(Image.new("RGB", (300, 300), RED), "PNG"), "dot.png")
    assert raised.value.codes == ["too_small"]
    assert "too small to upload" in str(raised.value)


def test_preflighted_good_image_round_trips_through_to_upload() -> None:
    _, data = to_upload(GOOD_JPEG, "good.jpg")
    assert preflight(data, "good.jpg").ok
