#!/usr/bin/env python3
"""Draws www/icon-192.png and www/icon-512.png, the web app manifest's icons: the
favicon's picture (www/favicon.svg: a blue rounded square with three white bars that
narrow, a model being squeezed) at install sizes. Standard library only.

Usage: python3 tools/icons/make_icons.py
"""
import os
import struct
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BLUE = (0x1F, 0x5F, 0xBF)
WHITE = (0xFF, 0xFF, 0xFF)
# favicon.svg, in its 32-unit box: (x, y, width, height, corner radius, colour).
SHAPES = [
    (0, 0, 32, 32, 7, BLUE),
    (7, 9, 18, 4, 2, WHITE),
    (10, 15, 12, 4, 2, WHITE),
    (13, 21, 6, 4, 2, WHITE),
]
SAMPLES = 4  # per axis, for smooth edges


def inside(px, py, shape):
    x, y, w, h, r, _ = shape
    if not (x <= px <= x + w and y <= py <= y + h):
        return False
    cx = min(max(px, x + r), x + w - r)
    cy = min(max(py, y + r), y + h - r)
    return (px - cx) ** 2 + (py - cy) ** 2 <= r * r


def pixel(i, j, size):
    """RGBA of pixel (i, j): each shape painted over the last, averaged over samples."""
    acc = [0.0, 0.0, 0.0, 0.0]
    for si in range(SAMPLES):
        for sj in range(SAMPLES):
            px = (i + (si + 0.5) / SAMPLES) * 32 / size
            py = (j + (sj + 0.5) / SAMPLES) * 32 / size
            colour, alpha = (0, 0, 0), 0.0
            for shape in SHAPES:
                if inside(px, py, shape):
                    colour, alpha = shape[5], 1.0
            for k in range(3):
                acc[k] += colour[k] * alpha
            acc[3] += alpha
    n = SAMPLES * SAMPLES
    a = acc[3] / n
    if a == 0:
        return (0, 0, 0, 0)
    return tuple(round(acc[k] / acc[3]) for k in range(3)) + (round(a * 255),)


def png(size):
    rows = bytearray()
    for j in range(size):
        rows.append(0)
        for i in range(size):
            rows.extend(pixel(i, j, size))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + chunk(b"IEND", b""))


for size in (192, 512):
    path = os.path.join(ROOT, "www", f"icon-{size}.png")
    with open(path, "wb") as f:
        f.write(png(size))
    print(f"wrote {path}")
