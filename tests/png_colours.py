#!/usr/bin/env python3
"""How much of a PNG is each colour: png_colours.py FILE RRGGBB...

Prints "RRGGBB PIXELS FIRST_ROW" per colour (a channel may differ by 8;
FIRST_ROW -1 when absent), then "size W H". A decoder of what Chromium's
--screenshot writes (8-bit RGB or RGBA, not interlaced, the five PNG row
filters), on the standard library alone (zlib), so the browser test needs
no image package."""
import struct
import sys
import zlib


def rows(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit("not a PNG")
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                sys.exit("unsupported PNG: depth %d, colour type %d, interlace %d" %
                         (depth, ctype, interlace))
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride, prev, out = zlib.decompress(idat), w * bpp, None, []
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        prev = prev or bytearray(stride)
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out.append(bytes(line))
        prev = line
    return w, h, bpp, out


def main():
    w, h, bpp, img = rows(sys.argv[1])
    want = [tuple(int(c[i:i + 2], 16) for i in (0, 2, 4)) for c in sys.argv[2:]]
    count, first = [0] * len(want), [-1] * len(want)
    for y, line in enumerate(img):
        for x in range(0, w * bpp, bpp):
            px = line[x:x + 3]
            for k, c in enumerate(want):
                if abs(px[0] - c[0]) <= 8 and abs(px[1] - c[1]) <= 8 and abs(px[2] - c[2]) <= 8:
                    count[k] += 1
                    if first[k] < 0:
                        first[k] = y
    for k, c in enumerate(sys.argv[2:]):
        print(c, count[k], first[k])
    print("size", w, h)


main()
