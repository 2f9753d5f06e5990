"""Write the PWA icons (assets/icon-192.png, assets/icon-512.png) and the favicon
(assets/favicon.ico) without Pillow.

Run `python -m components.make_icons` to regenerate them; the PNGs are committed.
The icon: a white speech bubble on the theme's indigo, drawn into a maskable-safe
centre (80%).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

ASSETS = Path(__file__).resolve().parent.parent / "assets"
BACKGROUND = (62, 99, 221)
FOREGROUND = (255, 255, 255)


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def _inside_bubble(x: float, y: float) -> bool:
    """(x, y) in [0, 1]²: a rounded rectangle with a tail at its lower left."""
    left, right, top, bottom, r = 0.22, 0.78, 0.26, 0.64, 0.09
    if left <= x <= right and top <= y <= bottom:
        cx = min(max(x, left + r), right - r)
        cy = min(max(y, top + r), bottom - r)
        return (x - cx) ** 2 + (y - cy) ** 2 <= r * r
    # The tail: a triangle below the bubble.
    if bottom <= y <= 0.78:
        t = (y - bottom) / (0.78 - bottom)
        return 0.32 <= x <= 0.32 + 0.14 * (1 - t)
    return False


def _inside_dot(x: float, y: float) -> bool:
    return any((x - cx) ** 2 + (y - 0.45) ** 2 <= 0.035**2 for cx in (0.38, 0.5, 0.62))


def png(size: int) -> bytes:
    rows = bytearray()
    for py in range(size):
        rows.append(0)  # filter: none
        y = (py + 0.5) / size
        for px in range(size):
            x = (px + 0.5) / size
            on = _inside_bubble(x, y) and not _inside_dot(x, y)
            rows.extend(FOREGROUND if on else BACKGROUND)
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + _chunk(b"IEND", b"")
    )


def ico(size: int = 32) -> bytes:
    """A favicon.ico holding one PNG image (allowed since Windows Vista; every
    browser reads it)."""
    image = png(size)
    header = struct.pack("<HHH", 0, 1, 1)  # reserved, type icon, one image
    entry = struct.pack("<BBBBHHII", size, size, 0, 0, 1, 32, len(image), 6 + 16)
    return header + entry + image


def main() -> None:
    for size in (192, 512):
        (ASSETS / f"icon-{size}.png").write_bytes(png(size))
    (ASSETS / "favicon.ico").write_bytes(ico(32))


if __name__ == "__main__":
    main()
