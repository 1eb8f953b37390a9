"""The course's S3 lab in a real browser: headless Chromium loads the public image and a
static website from gureum, and the screenshots must show the image's colours.

Chromium is installed by tests/install-browser.sh (run by `make test`); without it these
tests are skipped.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import zlib
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.integration.test_s3_access import _course_policy

COLOUR = (0x1E, 0x90, 0xFF)  # the lab image's colour: dodger blue
ACCENT = (0xFF, 0x8C, 0x00)  # the website's heading block: dark orange


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("chromium is not installed (tests/install-browser.sh installs Debian's chromium as root)")
    return found


def png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    """A solid-colour RGB PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(colour) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def pixels(data: bytes) -> list[tuple[int, int, int]]:
    """Decode an 8-bit RGB/RGBA non-interlaced PNG (what Chromium's screenshots are) to RGB pixels."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour_type in (2, 6) and interlace == 0, (depth, colour_type, interlace)
            channels = 3 if colour_type == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    out: list[tuple[int, int, int]] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        out += [tuple(line[x:x + 3]) for x in range(0, stride, channels)]
        previous = line
    return out


def _share(shot: list[tuple[int, int, int]], colour: tuple[int, int, int]) -> float:
    close = sum(1 for p in shot if all(abs(a - b) <= 8 for a, b in zip(p, colour)))
    return close / len(shot)


def screenshot(url: str, tmp_path: Path, size: str = "400,300") -> list[tuple[int, int, int]]:
    browser = _chromium()
    target = tmp_path / "screenshot.png"
    profile = tmp_path / "chromium-profile"
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--no-proxy-server", "--hide-scrollbars", f"--user-data-dir={profile}", f"--screenshot={target}",
           f"--window-size={size}", url]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert target.exists(), f"no screenshot ({proc.returncode}): {proc.stderr[-2000:]}"
    return pixels(target.read_bytes())


def test_course_lab_image_in_chromium(aws_cli, make_client, endpoint, tmp_path):
    _chromium()
    bucket = "course-lab-browser"
    image = tmp_path / "image.png"
    image.write_bytes(png(64, 64, COLOUR))
    aws_cli("s3", "mb", f"s3://{bucket}", expect_ok=True)
    aws_cli("s3api", "delete-public-access-block", "--bucket", bucket, expect_ok=True)
    aws_cli("s3", "cp", str(image), f"s3://{bucket}/image.png", expect_ok=True)
    policy = tmp_path / "policy.json"
    policy.write_text(_course_policy(bucket))
    aws_cli("s3api", "put-bucket-policy", "--bucket", bucket, "--policy", f"file://{policy}", expect_ok=True)
    port = urlparse(endpoint).port
    # The image URL itself, path style and virtual-hosted style.
    for url in (f"{endpoint}/{bucket}/image.png", f"http://{bucket}.s3.localhost:{port}/image.png"):
        shot = screenshot(url, tmp_path)
        assert _share(shot, COLOUR) > 0.02, url  # 64x64 of 400x300 is 3.4%
    # A page from the bucket's website endpoint that shows it.
    page = tmp_path / "index.html"
    page.write_text('<!doctype html><html><body style="margin:0;background:#fff">'
                    '<img src="image.png" style="width:300px;height:200px;display:block"></body></html>')
    aws_cli("s3", "cp", str(page), f"s3://{bucket}/index.html", expect_ok=True)
    aws_cli("s3", "website", f"s3://{bucket}", "--index-document", "index.html", expect_ok=True)
    shot = screenshot(f"http://{bucket}.s3-website-us-east-1.localhost:{port}/", tmp_path)
    assert _share(shot, COLOUR) > 0.4  # 300x200 of 400x300 is half the window
    assert _share(shot, (255, 255, 255)) > 0.3
    # Without the policy the browser gets AWS's 403 page, not the image.
    aws_cli("s3api", "delete-bucket-policy", "--bucket", bucket, expect_ok=True)
    shot = screenshot(f"http://{bucket}.s3-website.us-east-1.localhost:{port}/", tmp_path)
    assert _share(shot, COLOUR) < 0.01


def test_static_website_in_chromium(make_client, endpoint, tmp_path):
    _chromium()
    s3 = make_client("s3")
    bucket = "browser-site"
    s3.create_bucket(Bucket=bucket)
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:ListBucket"],
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}]}))
    block = "background:#{:02x}{:02x}{:02x};height:150px".format(*ACCENT)
    s3.put_object(Bucket=bucket, Key="index.html", ContentType="text/html",
                  Body=f'<!doctype html><html><body style="margin:0"><div style="{block}"></div>'
                       f'<link rel="stylesheet" href="/css/site.css"></body></html>'.encode())
    s3.put_object(Bucket=bucket, Key="css/site.css", ContentType="text/css", Body=b"body{background:#1e90ff}")
    s3.put_object(Bucket=bucket, Key="404.html", ContentType="text/html",
                  Body=b'<!doctype html><html><body style="margin:0;background:#1e90ff"></body></html>')
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "404.html"}})
    port = urlparse(endpoint).port
    shot = screenshot(f"http://{bucket}.s3-website.us-east-1.localhost:{port}/", tmp_path)
    assert _share(shot, ACCENT) > 0.4  # the index document rendered
    assert _share(shot, COLOUR) > 0.3  # with its stylesheet from the bucket
    shot = screenshot(f"http://{bucket}.s3-website.us-east-1.localhost:{port}/no/such/page", tmp_path)
    assert _share(shot, COLOUR) > 0.9  # the error document
