"""The first bytes of Zstandard-compressed data, in pure Python (standard library only).

Why this exists: since ROCm 6.2, `--offload-compress` stores each HIP fat binary as a
compressed offload bundle ("CCOB"), and ROCm's LLVM compresses it with Zstandard. The GPU
targets are in the bundle header at the very start of the decompressed payload. Python
before 3.14 has no zstd module, and the rocm/tensorflow bases promise no zstd tool, so
rocm_targets.py decodes just that prefix itself: decoding stops as soon as enough bytes
came out, which keeps it fast even in pure Python.

The format is RFC 8878 (https://www.rfc-editor.org/rfc/rfc8878); section numbers below
refer to it. Dictionaries are not supported (clang-offload-bundler uses none).
"""

from __future__ import annotations

from collections.abc import Iterator

FRAME_MAGIC = 0xFD2FB528
SKIPPABLE_MAGIC_MASK = 0xFFFFFFF0
SKIPPABLE_MAGIC = 0x184D2A50


class ZstdError(ValueError):
    """The data is not Zstandard, or is damaged."""


class ForwardBits:
    """Little-endian bit reader, used for FSE table descriptions (section 4.1.1)."""

    def __init__(self, data: bytes, start: int) -> None:
        self.data = data
        self.bit = start * 8

    def peek(self, count: int) -> int:
        first = self.bit >> 3
        chunk = int.from_bytes(self.data[first : first + 8], "little")
        return (chunk >> (self.bit & 7)) & ((1 << count) - 1)

    def skip(self, count: int) -> None:
        self.bit += count

    def read(self, count: int) -> int:
        value = self.peek(count)
        self.bit += count
        return value

    def end_byte(self) -> int:
        return (self.bit + 7) >> 3


class BackwardBits:
    """The reversed bitstreams of Huffman literals and sequences (section 4.2.1.2): read from
    the end towards the start, beginning after the highest set bit of the last byte. Reading
    past the start gives zero bits; `overflowed` then says so (FSE decoding needs that)."""

    def __init__(self, data: bytes) -> None:
        if not data or data[-1] == 0:
            raise ZstdError("bitstream without its end marker")
        self.data = data
        self.bit = len(data) * 8 - 8 + data[-1].bit_length() - 1

    @property
    def overflowed(self) -> bool:
        return self.bit < 0

    def peek(self, count: int) -> int:
        if count == 0:
            return 0
        low = self.bit - count
        if low >= 0:
            first = low >> 3
            last = (self.bit - 1) >> 3
            chunk = int.from_bytes(self.data[first : last + 1], "little")
            return (chunk >> (low & 7)) & ((1 << count) - 1)
        # Partly before the start: the missing low bits are zeros.
        available = max(self.bit, 0)
        chunk = int.from_bytes(self.data[: (available + 7) >> 3], "little") & ((1 << available) - 1)
        return chunk << (-low) & ((1 << count) - 1)

    def read(self, count: int) -> int:
        value = self.peek(count)
        self.bit -= count
        return value


# --- FSE (section 4.1) --------------------------------------------------------------------


class FseTable:
    """A decoding table: per state, the symbol, the bits to read and the next state's base."""

    def __init__(self, symbols: list[int], bits: list[int], bases: list[int], log: int) -> None:
        self.symbols, self.bits, self.bases, self.log = symbols, bits, bases, log

    @classmethod
    def from_distribution(cls, counts: list[int], log: int) -> FseTable:
        size = 1 << log
        symbols = [0] * size
        high = size - 1
        next_state = [0] * len(counts)
        for symbol, count in enumerate(counts):
            if count == -1:  # "less than 1": the symbol gets one cell at the top
                symbols[high] = symbol
                high -= 1
                next_state[symbol] = 1
            else:
                next_state[symbol] = count
        position, step, mask = 0, (size >> 1) + (size >> 3) + 3, size - 1
        for symbol, count in enumerate(counts):
            for _ in range(max(count, 0)):
                symbols[position] = symbol
                position = (position + step) & mask
                while position > high:
                    position = (position + step) & mask
        if position != 0:
            raise ZstdError("FSE distribution does not fill its table")
        bits, bases = [0] * size, [0] * size
        for state in range(size):
            following = next_state[symbols[state]]
            next_state[symbols[state]] += 1
            bits[state] = log - (following.bit_length() - 1)
            bases[state] = (following << bits[state]) - size
        return cls(symbols, bits, bases, log)

    @classmethod
    def rle(cls, symbol: int) -> FseTable:
        return cls([symbol], [0], [0], 0)

    @classmethod
    def read(cls, data: bytes, start: int, max_log: int, max_symbol: int) -> tuple[FseTable, int]:
        """Decode a table description at data[start:] (section 4.1.1). Returns the table and
        the offset of the byte after the description."""
        reader = ForwardBits(data, start)
        log = reader.read(4) + 5
        if log > max_log:
            raise ZstdError(f"FSE accuracy log {log} is above {max_log}")
        remaining = (1 << log) + 1
        threshold = 1 << log
        width = log + 1
        counts: list[int] = []
        previous_zero = False
        while remaining > 1 and len(counts) <= max_symbol:
            if previous_zero:
                while True:
                    repeat = reader.read(2)
                    counts.extend([0] * repeat)
                    if repeat != 3:
                        break
                if len(counts) > max_symbol:
                    break
            largest = (2 * threshold - 1) - remaining
            low = reader.peek(width - 1) & (threshold - 1)
            if low < largest:
                value = low
                reader.skip(width - 1)
            else:
                value = reader.peek(width) & (2 * threshold - 1)
                if value >= threshold:
                    value -= largest
                reader.skip(width)
            count = value - 1
            remaining -= -count if count < 0 else count
            counts.append(count)
            previous_zero = count == 0
            while remaining < threshold:
                width -= 1
                threshold >>= 1
        if remaining != 1 or len(counts) > max_symbol + 1:
            raise ZstdError("FSE table description is damaged")
        return cls.from_distribution(counts, log), reader.end_byte()


class FseState:
    def __init__(self, table: FseTable, bits: BackwardBits) -> None:
        self.table = table
        self.state = bits.read(table.log)

    @property
    def symbol(self) -> int:
        return self.table.symbols[self.state]

    def update(self, bits: BackwardBits) -> None:
        self.state = self.table.bases[self.state] + bits.read(self.table.bits[self.state])


# --- Huffman literals (section 4.2) --------------------------------------------------------


class HuffmanTable:
    def __init__(self, weights: list[int]) -> None:
        total = sum(1 << (w - 1) for w in weights if w)
        if total == 0:
            raise ZstdError("Huffman weights are all zero")
        max_bits = total.bit_length()  # the next power of two above the total
        rest = (1 << max_bits) - total
        if rest & (rest - 1):
            raise ZstdError("Huffman weights do not sum up to a power of two")
        weights = [*weights, rest.bit_length()]  # the last symbol's weight is implied
        if max_bits > 11:
            raise ZstdError("Huffman code longer than 11 bits")
        self.max_bits = max_bits
        size = 1 << max_bits
        self.symbols = [0] * size
        self.lengths = [0] * size
        # Codes are assigned by weight, lowest weight (longest code) first, then by symbol.
        position = 0
        for weight in range(1, max_bits + 1):
            for symbol, w in enumerate(weights):
                if w == weight:
                    span = 1 << (weight - 1)
                    self.symbols[position : position + span] = [symbol] * span
                    self.lengths[position : position + span] = [max_bits + 1 - weight] * span
                    position += span
        if position != size:
            raise ZstdError("Huffman table is incomplete")

    @classmethod
    def read(cls, data: bytes, start: int) -> tuple[HuffmanTable, int]:
        header = data[start]
        if header >= 128:  # weights written directly, four bits each
            count = header - 127
            raw = data[start + 1 : start + 1 + (count + 1) // 2]
            weights = []
            for byte in raw:
                weights += [byte >> 4, byte & 15]
            return cls(weights[:count]), start + 1 + (count + 1) // 2
        end = start + 1 + header
        table, stream_start = FseTable.read(data, start + 1, 6, 255)
        bits = BackwardBits(data[stream_start:end])
        one, two = FseState(table, bits), FseState(table, bits)
        weights = []
        while True:  # two interleaved states share one stream, until it runs dry
            weights.append(one.symbol)
            one.update(bits)
            if bits.overflowed:
                weights.append(two.symbol)
                break
            weights.append(two.symbol)
            two.update(bits)
            if bits.overflowed:
                weights.append(one.symbol)
                break
            if len(weights) > 255:
                raise ZstdError("too many Huffman weights")
        return cls(weights), end


class Literals:
    """The literals of one block, decoded only as far as the sequences ask for them."""

    def __init__(self, produce: Iterator[int] | None, raw: bytes, size: int) -> None:
        self.produce = produce
        self.buffer = bytearray(raw)
        self.size = size
        self.used = 0

    def take(self, count: int) -> bytes:
        end = self.used + count
        if end > self.size:
            raise ZstdError("sequence asks for more literals than the block has")
        while len(self.buffer) < end:
            assert self.produce is not None
            self.buffer.append(next(self.produce))
        chunk = bytes(self.buffer[self.used : end])
        self.used = end
        return chunk

    def rest(self) -> bytes:
        return self.take(self.size - self.used)


def huffman_streams(table: HuffmanTable, streams: list[bytes], size: int) -> Iterator[int]:
    quota = (size + 3) // 4 if len(streams) == 4 else size
    for index, stream in enumerate(streams):
        count = quota if index < len(streams) - 1 else size - quota * (len(streams) - 1)
        bits = BackwardBits(stream)
        for _ in range(count):
            code = bits.peek(table.max_bits)
            yield table.symbols[code]
            bits.bit -= table.lengths[code]


# --- sequences (section 3.1.1.3.2) ---------------------------------------------------------

LL_BASE = [*range(16), 16, 18, 20, 22, 24, 28, 32, 40, 48, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768,
           65536]  # fmt: skip
LL_BITS = [0] * 16 + [1, 1, 1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]
ML_BASE = [*range(3, 35), 35, 37, 39, 41, 43, 47, 51, 59, 67, 83, 99, 131, 259, 515, 1027, 2051, 4099, 8195, 16387,
           32771, 65539]  # fmt: skip
ML_BITS = [0] * 32 + [1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]
LL_DEFAULT = [4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 2, 1, 1, 1, 1, 1,
              -1, -1, -1, -1]  # fmt: skip
ML_DEFAULT = [1, 4, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
              1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1]  # fmt: skip
OF_DEFAULT = [1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1]
# (default distribution, accuracy log, largest log allowed, largest symbol)
SEQUENCE_KINDS = {
    "ll": (LL_DEFAULT, 6, 9, 35),
    "of": (OF_DEFAULT, 5, 8, 31),
    "ml": (ML_DEFAULT, 6, 9, 52),
}


class FrameState:
    """What carries over from block to block inside one frame."""

    def __init__(self) -> None:
        self.out = bytearray()
        self.huffman: HuffmanTable | None = None
        self.tables: dict[str, FseTable] = {}
        self.offsets = [1, 4, 8]


def read_literals(block: bytes, frame: FrameState) -> tuple[Literals, int]:
    """The literals section (section 3.1.1.3.1): returns the literals and where sequences start."""
    kind, size_format = block[0] & 3, (block[0] >> 2) & 3
    if kind in (0, 1):  # raw or RLE
        if size_format in (0, 2):
            size, header = block[0] >> 3, 1
        elif size_format == 1:
            size, header = (block[0] >> 4) + (block[1] << 4), 2
        else:
            size, header = (block[0] >> 4) + (block[1] << 4) + (block[2] << 12), 3
        if kind == 0:
            return Literals(None, block[header : header + size], size), header + size
        return Literals(None, bytes([block[header]]) * size, size), header + 1
    header = {0: 3, 1: 3, 2: 4, 3: 5}[size_format]
    field_bits = {0: 10, 1: 10, 2: 14, 3: 18}[size_format]
    value = int.from_bytes(block[:header], "little") >> 4
    size = value & ((1 << field_bits) - 1)
    compressed = value >> field_bits
    start, end = header, header + compressed
    if kind == 2:
        frame.huffman, start = HuffmanTable.read(block, start)
    if frame.huffman is None:
        raise ZstdError("treeless literals without an earlier Huffman table")
    if size_format == 0:
        streams = [block[start:end]]
    else:
        lengths = [int.from_bytes(block[start + 2 * i : start + 2 * i + 2], "little") for i in range(3)]
        first = start + 6
        cuts = [first, first + lengths[0], first + lengths[0] + lengths[1], first + sum(lengths), end]
        streams = [block[cuts[i] : cuts[i + 1]] for i in range(4)]
    return Literals(huffman_streams(frame.huffman, streams, size), b"", size), end


def sequence_table(kind: str, mode: int, block: bytes, position: int, frame: FrameState) -> tuple[FseTable, int]:
    default, default_log, max_log, max_symbol = SEQUENCE_KINDS[kind]
    if mode == 0:
        table = FseTable.from_distribution(default, default_log)
    elif mode == 1:
        table, position = FseTable.rle(block[position]), position + 1
    elif mode == 2:
        table, position = FseTable.read(block, position, max_log, max_symbol)
    elif kind in frame.tables:
        table = frame.tables[kind]
    else:
        raise ZstdError("repeated sequence table without an earlier one")
    frame.tables[kind] = table
    return table, position


def next_offset(code_value: int, literal_length: int, offsets: list[int]) -> int:
    """Offsets and the three repeat offsets (section 3.1.2.5)."""
    if code_value > 3:
        offset = code_value - 3
        offsets[:] = [offset, offsets[0], offsets[1]]
        return offset
    index = code_value - 1 + (1 if literal_length == 0 else 0)
    if index == 0:
        return offsets[0]
    if index == 3:
        offset = offsets[0] - 1
        if offset == 0:
            raise ZstdError("repeat offset of zero")
        offsets[:] = [offset, offsets[0], offsets[1]]
        return offset
    offset = offsets[index]
    offsets[:] = [offset, offsets[0], offsets[2] if index == 1 else offsets[1]]
    return offset


def compressed_block(block: bytes, frame: FrameState) -> Iterator[None]:
    """Decode one compressed block into frame.out, yielding after each piece of output."""
    literals, position = read_literals(block, frame)
    first = block[position] if position < len(block) else 0
    if first == 0:
        frame.out += literals.rest()
        yield
        return
    if first < 128:
        count, position = first, position + 1
    elif first < 255:
        count, position = ((first - 128) << 8) + block[position + 1], position + 2
    else:
        count, position = block[position + 1] + (block[position + 2] << 8) + 0x7F00, position + 3
    modes = block[position]
    position += 1
    ll_table, position = sequence_table("ll", modes >> 6, block, position, frame)
    of_table, position = sequence_table("of", (modes >> 4) & 3, block, position, frame)
    ml_table, position = sequence_table("ml", (modes >> 2) & 3, block, position, frame)
    bits = BackwardBits(block[position:])
    ll, of, ml = FseState(ll_table, bits), FseState(of_table, bits), FseState(ml_table, bits)
    out = frame.out
    for index in range(count):
        of_code, ml_code, ll_code = of.symbol, ml.symbol, ll.symbol
        if ll_code > 35 or ml_code > 52 or of_code > 31:
            raise ZstdError("sequence code out of range")
        offset_value = (1 << of_code) + bits.read(of_code)
        match_length = ML_BASE[ml_code] + bits.read(ML_BITS[ml_code])
        literal_length = LL_BASE[ll_code] + bits.read(LL_BITS[ll_code])
        if index < count - 1:
            ll.update(bits)
            ml.update(bits)
            of.update(bits)
        out += literals.take(literal_length)
        offset = next_offset(offset_value, literal_length, frame.offsets)
        if offset > len(out):
            raise ZstdError("match reaches before the start of the data")
        start = len(out) - offset
        if offset >= match_length:
            out += out[start : start + match_length]
        else:  # overlapping copy: the match repeats the last `offset` bytes
            for i in range(match_length):
                out.append(out[start + i])
        yield
    out += literals.rest()
    yield


def frames(data: bytes) -> Iterator[bytearray]:
    """Decode frame after frame, yielding the growing output of the current frame."""
    position = 0
    while position + 4 <= len(data):
        magic = int.from_bytes(data[position : position + 4], "little")
        if magic & SKIPPABLE_MAGIC_MASK == SKIPPABLE_MAGIC:
            position += 8 + int.from_bytes(data[position + 4 : position + 8], "little")
            continue
        if magic != FRAME_MAGIC:
            raise ZstdError("not a Zstandard frame")
        descriptor = data[position + 4]
        position += 5
        single_segment = descriptor & 0x20
        if descriptor & 0x08:
            raise ZstdError("reserved bit set in the frame header")
        if descriptor & 3:
            raise ZstdError("frames that need a dictionary are not supported")
        position += 0 if single_segment else 1  # window descriptor
        size_field = (descriptor >> 6) & 3
        position += {0: 1 if single_segment else 0, 1: 2, 2: 4, 3: 8}[size_field]
        frame = FrameState()
        while True:
            if position + 3 > len(data):
                raise ZstdError("data ends inside a block header")
            header = int.from_bytes(data[position : position + 3], "little")
            last, kind, size = header & 1, (header >> 1) & 3, header >> 3
            position += 3
            if kind == 0:
                frame.out += data[position : position + size]
                position += size
                yield frame.out
            elif kind == 1:
                frame.out += bytes([data[position]]) * size
                position += 1
                yield frame.out
            elif kind == 2:
                if position + size > len(data):
                    raise ZstdError("data ends inside a block")
                for _ in compressed_block(data[position : position + size], frame):
                    yield frame.out
                position += size
            else:
                raise ZstdError("reserved block type")
            if last:
                break
        position += 4 if descriptor & 0x04 else 0  # content checksum


class Prefix:
    """Decompressed bytes on demand: `prefix.get(n)` decodes until n bytes exist (or the data
    ends) and returns all bytes decoded so far."""

    def __init__(self, data: bytes) -> None:
        self.done: bytearray = bytearray()
        self.current: bytearray = bytearray()
        self.decoder = frames(data)
        self.finished = False

    def get(self, count: int) -> bytes:
        while not self.finished and len(self.done) + len(self.current) < count:
            try:
                latest = next(self.decoder)
            except StopIteration:
                self.finished = True
                break
            if latest is not self.current:  # a new frame began
                self.done += self.current
                self.current = latest
        return bytes(self.done + self.current)


def decompress_prefix(data: bytes, count: int) -> bytes:
    """At least the first `count` decompressed bytes of `data` (all of them if fewer)."""
    return Prefix(data).get(count)
