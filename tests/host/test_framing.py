"""labhost.framing: a tar stream compressed one frame per layer decompresses to the same bytes,
and each layer's diff ID and compressed size are reported (tar files written here in the
layouts `docker save` uses: `<id>/layer.tar` before Engine 25, `blobs/sha256/...` after)."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import shutil
import subprocess
import tarfile

import pytest
from labhost import framing


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
    with target.open("wb") as sink:
        total, blobs = framing.write_framed(io.BytesIO(original).read, sink, compression=compression, level=3)
    written = target.read_bytes()
    assert total == len(original)
    assert decompress(written, compression) == original
    assert [blob.diff_id for blob in blobs] == [
        f"sha256:{hashlib.sha256(data).hexdigest()}" for data in (LAYER_A, LAYER_B)
    ]
    assert [blob.size for blob in blobs] == [len(LAYER_A), len(LAYER_B)]
    assert all(0 < blob.compressed < len(written) for blob in blobs)
    # The random third of LAYER_A does not compress; the zeros of LAYER_B nearly vanish.
    assert blobs[0].compressed > 290_000 > 10_000 > blobs[1].compressed


def test_a_truncated_stream_is_an_error_not_a_short_archive(tmp_path):
    original = tar_bytes(LEGACY)
    with (tmp_path / "out").open("wb") as sink, pytest.raises(EOFError):
        framing.write_framed(io.BytesIO(original[: len(original) // 2]).read, sink, compression="gzip", level=1)
