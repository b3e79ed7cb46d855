"""labhost.framing: a tar stream compressed one frame per blob decompresses to the same bytes,
each blob's compressed size is reported and every member reaches labhost.archivescan in the same
pass (tar files written here in the layouts `docker save` uses: `<id>/layer.tar` before Engine
25, `blobs/sha256/...` after); a tar Go's reader would refuse is refused."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import shutil
import subprocess
import tarfile

import pytest
from labhost import archivescan, framing


def tar_bytes(members: dict[str, bytes], *, form: int = tarfile.USTAR_FORMAT) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=form) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


LAYER_A = os.urandom(300_000) + bytes(700_000)  # compressible half
LAYER_B = bytes(2_000_003)
LEGACY = {"aaa/VERSION": b"1.0", "aaa/layer.tar": LAYER_A, "bbb/layer.tar": LAYER_B, "manifest.json": b"[]"}
LONG = "x" * 120
OCI = {
    "blobs/sha256/" + hashlib.sha256(LAYER_A).hexdigest(): LAYER_A,
    f"{LONG}/layer.tar": LAYER_B,
    "index.json": b"{}",
}


def decompress(data: bytes, compression: str) -> bytes:
    if compression == "gzip":
        return gzip.decompress(data)
    return subprocess.run(["zstd", "-dc"], input=data, capture_output=True, check=True).stdout


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
@pytest.mark.parametrize(
    ("members", "form"),
    [
        pytest.param(LEGACY, tarfile.USTAR_FORMAT, id="legacy-save"),
        pytest.param(OCI, tarfile.PAX_FORMAT, id="oci-save-with-a-pax-long-name"),
    ],
)
def test_frames_decompress_to_the_same_stream_and_name_each_layer(tmp_path, compression, members, form):
    if compression == "zstd" and shutil.which("zstd") is None:
        pytest.fail("zstd is not installed (apt-get install zstd; .ci/run installs it)")
    original = tar_bytes(members, form=form)
    target = tmp_path / "out"
    scanner = archivescan.Scanner()
    with target.open("wb") as sink:
        total, compressed = framing.write_framed(
            io.BytesIO(original).read, sink, compression=compression, level=3, on_piece=scanner.feed
        )
    written = target.read_bytes()
    assert total == len(original)
    assert decompress(written, compression) == original
    layers = [name for name in members if framing.is_blob(name)]
    assert list(compressed) == layers
    scan = scanner.finish()
    assert scan.problem is None and scan.total == len(original)
    assert [scan.members[name].digest for name in layers] == [
        f"sha256:{hashlib.sha256(data).hexdigest()}" for data in (LAYER_A, LAYER_B)
    ]
    assert [scan.members[name].size for name in layers] == [len(LAYER_A), len(LAYER_B)]
    assert all(0 < compressed[name] < len(written) for name in layers)
    # The random third of LAYER_A does not compress; the zeros of LAYER_B nearly vanish.
    assert compressed[layers[0]] > 290_000 > 10_000 > compressed[layers[1]]


def test_a_truncated_stream_is_an_error_not_a_short_archive(tmp_path):
    original = tar_bytes(LEGACY)
    with (tmp_path / "out").open("wb") as sink, pytest.raises(EOFError):
        framing.write_framed(io.BytesIO(original[: len(original) // 2]).read, sink, compression="gzip", level=1)


def test_a_header_with_a_wrong_checksum_is_refused(tmp_path):
    original = bytearray(tar_bytes(LEGACY))
    original[0] ^= 0x01  # the first member's name changes, its checksum no longer matches
    with (tmp_path / "out").open("wb") as sink, pytest.raises(framing.TarError, match="checksum"):
        framing.write_framed(io.BytesIO(bytes(original)).read, sink, compression="gzip", level=1)


def test_data_after_the_end_of_the_archive_is_refused(tmp_path):
    original = tar_bytes(LEGACY) + b"manifest.json"
    with (tmp_path / "out").open("wb") as sink, pytest.raises(framing.TarError, match="after the end"):
        framing.write_framed(io.BytesIO(original).read, sink, compression="gzip", level=1)
