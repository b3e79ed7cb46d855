"""image/zstd_prefix.py against the reference Zstandard library (python-zstandard wraps
Facebook's libzstd, the library ROCm's LLVM compresses offload bundles with)."""

from __future__ import annotations

import hashlib
import random
import sys
from pathlib import Path

import pytest
import zstandard

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "image"))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "standins"))

import codeobjects  # noqa: E402
from zstd_prefix import Prefix, ZstdError, decompress_prefix  # noqa: E402


def text_like(size: int, seed: int = 1) -> bytes:
    words = [b"gfx1030", b"hipv4-amdgcn-amd-amdhsa--", b"s_endpgm", b"v_mov_b32", b"\x00\x00\x00\x00", b"kernel"]
    rng = random.Random(seed)
    out = bytearray()
    while len(out) < size:
        out += rng.choice(words) + bytes([rng.randrange(256)])
    return bytes(out[:size])


def random_bytes(size: int) -> bytes:
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(str(counter).encode()).digest()
        counter += 1
    return bytes(out[:size])


def weighted_symbols(count: int, size: int, seed: int) -> bytes:
    rng = random.Random(seed)
    symbols = list(range(count))
    return bytes(rng.choices(symbols, weights=[rng.choice([1, 2, 4, 8]) for _ in symbols], k=size))


# Between them these reach every path of the format (checked by counting while writing the
# decoder): raw, RLE and compressed blocks; raw, RLE, Huffman (1 and 4 streams, FSE-coded and
# direct weights) and treeless literals; predefined, RLE, FSE and repeated sequence tables.
SAMPLES = {
    "offload-bundle-11-targets": codeobjects.hip_bundle(["gfx908", "gfx90a", "gfx940", "gfx941", "gfx942", "gfx1030",
                                                          "gfx1100", "gfx1101", "gfx1102", "gfx1200", "gfx1201"], 3),
    "text-like-300k-several-blocks": text_like(300_000),
    "incompressible-raw-blocks": random_bytes(200_000),
    "one-byte-repeated-rle": b"\x00" * 500_000,
    "tiny": b"gfx1151",
    "empty": b"",
    "overlapping-matches": b"ab" * 5000 + b"abc" * 7000,
    "records-repeat-tables": b"".join(b"record %05d: value=%d;\n" % (i, i % 7) for i in range(20000)),
    "twenty-symbols-direct-huffman-weights": weighted_symbols(20, 4000, seed=0),
    "skewed-small-block-single-stream": bytes(random.Random(5).choice(b"aaaaaaaabbbbccd") for _ in range(3000)),
}  # fmt: skip


@pytest.mark.parametrize("level", [1, 3, 9, 19, 22])
@pytest.mark.parametrize("name", list(SAMPLES))
def test_whole_output_matches_libzstd(name: str, level: int) -> None:
    data = SAMPLES[name]
    packed = zstandard.ZstdCompressor(level=level).compress(data)
    assert decompress_prefix(packed, len(data) + 1) == data


@pytest.mark.parametrize("count", [1, 32, 600, 4097, 100_000])
def test_prefix_is_the_start_of_the_output(count: int) -> None:
    data = SAMPLES["text-like-300k-several-blocks"]
    packed = zstandard.ZstdCompressor(level=19).compress(data)
    got = decompress_prefix(packed, count)
    assert len(got) >= count
    assert data.startswith(got)


def test_decoding_stops_early_when_the_prefix_is_there() -> None:
    data = SAMPLES["text-like-300k-several-blocks"]
    packed = zstandard.ZstdCompressor(level=19).compress(data)
    prefix = Prefix(packed)
    assert len(prefix.get(100)) < 128 * 1024  # not even the first full block


def test_frames_without_content_size_and_with_checksum() -> None:
    data = SAMPLES["offload-bundle-11-targets"]
    writer = zstandard.ZstdCompressor(level=9, write_checksum=True, write_content_size=False)
    packed = writer.compress(data)
    assert decompress_prefix(packed, len(data)) == data


def test_streamed_frame_with_many_blocks() -> None:
    data = SAMPLES["text-like-300k-several-blocks"]
    chunks = zstandard.ZstdCompressor(level=3).compressobj()
    packed = chunks.compress(data[:1000]) + chunks.compress(data[1000:]) + chunks.flush()
    assert decompress_prefix(packed, len(data)) == data


def test_two_frames_back_to_back() -> None:
    one, two = b"first frame " * 100, b"second frame " * 100
    writer = zstandard.ZstdCompressor(level=5)
    assert decompress_prefix(writer.compress(one) + writer.compress(two), 10**6) == one + two


@pytest.mark.parametrize(
    "damaged",
    [
        pytest.param(b"PK\x03\x04not zstd", id="not-a-frame"),
        pytest.param(zstandard.ZstdCompressor().compress(b"x" * 1000)[:7], id="cut-inside-a-block-header"),
    ],
)
def test_damaged_input_is_an_error_not_a_crash(damaged: bytes) -> None:
    with pytest.raises(ZstdError):
        decompress_prefix(damaged, 100)
