"""What each kind of setting accepts: pure checks, value in, Problem or None out.

Where Docker or Compose consumes a value, the check accepts every format that consumer
accepts (tests/config/test_values_vs_compose.py runs each table through the real `docker
compose config`), and refuses what it would refuse or what would break the lab, in one line
with the fix. The grammars, and where they come from:

- sizes: go-units RAMInBytes (docker/go-units size.go, parseSize), which compose uses for
  mem_limit and shm_size: a Go float, an optional space, then b, k, m, g, t or p with an
  optional "b" or "ib", any case: 8g, 8gb, 8GiB, 1.5g, "8 g", 1e3, 0x1p3 and 8 (bytes).
- CPUs: compose parses `cpus` with Go's strconv.ParseFloat: 1.5, .5, 1e0, 1_0, +2, 0x1p0.
- integers (pids_limit, the GPU count): Go's strconv.ParseInt, base 10: [+-]digits.
- image references: distribution/reference's grammar (regexp.go), the one docker build, pull
  and tag use: [domain[:port]/]path[:tag][@digest], path components lowercase.
- addresses: Go's net.ParseIP (what compose's port parser calls): IPv4 without leading zeros,
  IPv6 without a zone, optionally in brackets.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from labkit import gfx, pullpolicy
from labkit.hostfacts.flavour import FLAVOURS
from labkit.i18n import LANGUAGES, _

MIN_TOKEN_LENGTH = 16
# Tokens end up in a URL the student clicks: keep them to characters that need no escaping.
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_\-]+$")


@dataclass(frozen=True)
class Problem:
    """One bad setting: which, what is wrong, and the one-line fix. The message and the fix
    are in the student's language (each check translates them as it makes them); the key is a
    variable name and never translated."""

    key: str
    message: str
    fix: str

    def line(self) -> str:
        if self.key:
            return _("{key}: {message}. Fix: {fix}.").format(key=self.key, message=self.message, fix=self.fix)
        return _("{message}. Fix: {fix}.").format(message=self.message, fix=self.fix)


Check = Callable[[str, str], "Problem | None"]

# --- Go's number grammars -------------------------------------------------------------------

_DIGITS = r"\d(?:_?\d)*"
_HEX = r"[0-9A-Fa-f](?:_?[0-9A-Fa-f])*"
# strconv.ParseFloat: decimal with optional exponent, or hexadecimal with a mandatory p
# exponent; underscores only between digits (or after the 0x prefix).
GO_FLOAT = re.compile(
    rf"[+-]?(?:(?:{_DIGITS}(?:\.(?:{_DIGITS})?)?|\.{_DIGITS})(?:[eE][+-]?{_DIGITS})?"
    rf"|0[xX]_?(?:{_HEX}(?:\.(?:{_HEX})?)?|\.{_HEX})[pP][+-]?{_DIGITS})"
)
# strconv.ParseInt(s, 10, 64): a sign and decimal digits, no underscores.
GO_INT = re.compile(r"[+-]?[0-9]+")
INT64_MAX = 2**63 - 1


def go_float(text: str) -> float | None:
    """The number Go's strconv.ParseFloat reads from `text`, or None where it errors."""
    if not GO_FLOAT.fullmatch(text):
        return None
    plain = text.replace("_", "")
    sign = -1.0 if plain.startswith("-") else 1.0
    unsigned = plain.lstrip("+-")
    try:
        number = float.fromhex(unsigned) if unsigned[:2].lower() == "0x" else float(unsigned)
    except (OverflowError, ValueError):
        return None
    # ParseFloat reports a range error for what overflows to infinity.
    return sign * number if math.isfinite(number) else None


def go_int(text: str) -> int | None:
    if not GO_INT.fullmatch(text):
        return None
    number = int(text)
    return number if -(2**63) <= number <= INT64_MAX else None


# --- sizes ----------------------------------------------------------------------------------

BINARY_UNITS = {"k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4, "p": 1024**5}
DOCKER_MIN_MEMORY = 6 * 1024**2  # moby's linuxMinMemory: a smaller limit fails at start


def size_in_bytes(text: str) -> int | None:
    """go-units RAMInBytes: bytes, or None where compose refuses the value."""
    split = max(text.rfind(char) for char in "0123456789. ")
    if split < 0:
        return None
    number, suffix = (text[:split], text[split + 1 :]) if text[split] == " " else (text[: split + 1], text[split + 1 :])
    size = go_float(number)
    if size is None or size < 0:
        return None
    suffix = suffix.lower()
    if suffix and suffix != "b":
        if len(suffix) > 3 or suffix[0] not in BINARY_UNITS or suffix[1:] not in ("", "b", "ib"):
            return None
        size *= BINARY_UNITS[suffix[0]]
    # Go's int64() of a float beyond the range gives nonsense; compose then passes it on.
    return int(size) if size <= INT64_MAX else None


def _size(key: str, value: str, *, minimum: int = 0) -> Problem | None:
    size = size_in_bytes(value)
    if size is None:
        return Problem(
            key,
            _("is {value!r}, not a size like 8g, 512m or 1.5GiB").format(value=value),
            _("set {key}=8g, or 0 for none").format(key=key),
        )
    if 0 < size < minimum:
        return Problem(
            key,
            _("is {value!r}, which is {size} bytes: Docker refuses less than {minimum} MiB").format(
                value=value, size=size, minimum=minimum // 1024**2
            ),
            _("add the unit, e.g. {key}={value}g").format(key=key, value=value),
        )
    return None


def memory_size(key: str, value: str) -> Problem | None:
    return _size(key, value, minimum=DOCKER_MIN_MEMORY)


def shm_size(key: str, value: str) -> Problem | None:
    return _size(key, value)


# --- numbers --------------------------------------------------------------------------------


def cpus(key: str, value: str) -> Problem | None:
    number = go_float(value)
    if number is None or number < 0:
        return Problem(
            key,
            _("is {value!r}, not a number of CPUs").format(value=value),
            _("set {key}=4, 1.5, or 0 for all CPUs").format(key=key),
        )
    if 0 < number < 0.01:
        # The engine: "Range of CPUs is from 0.01 to N, as there are only N CPUs available".
        return Problem(
            key,
            _("is {value!r}; Docker's smallest CPU limit is 0.01").format(value=value),
            _("set {key}=0.5, or 0 for all CPUs").format(key=key),
        )
    return None


def pids(key: str, value: str) -> Problem | None:
    number = go_int(value)
    # 0 and -1 are Docker's "no limit".
    if number is not None and (number >= 64 or number in (0, -1)):
        return None
    return Problem(
        key,
        _("is {value!r}; JupyterLab and a kernel need at least 64 processes").format(value=value),
        _("set {key}=2048 (or 0 for no limit)").format(key=key),
    )


def gpu_count(key: str, value: str) -> Problem | None:
    # compose: "the only value allowed is 'all' or a number"; -1 is Docker's own "all".
    number = go_int(value)
    if value.lower() == "all" or (number is not None and number >= -1):
        return None
    return Problem(
        key,
        _("is {value!r}, not 'all' or a number of GPUs").format(value=value),
        _("set {key}=all or {key}=1").format(key=key),
    )


def port(key: str, value: str) -> Problem | None:
    # Compose also takes 0 (any free port) and ranges; the lab prints one URL, so one port.
    if value.isascii() and value.isdigit() and 1 <= int(value) <= 65535:
        return None
    return Problem(
        key,
        _("is {value!r}, not a port between 1 and 65535").format(value=value),
        _("set {key}=8888 or another free port").format(key=key),
    )


def positive_seconds(key: str, value: str) -> Problem | None:
    if value.isascii() and value.isdigit() and int(value) > 0:
        return None
    return Problem(
        key,
        _("is {value!r}, not a whole number of seconds above 0").format(value=value),
        _("set {key}=120").format(key=key),
    )


def tf_log_level(key: str, value: str) -> Problem | None:
    # TensorFlow reads 0 (everything) to 3 (errors hidden too); it silently takes 0 for text.
    if value in ("0", "1", "2", "3"):
        return None
    return Problem(
        key,
        _("is {value!r}, not 0, 1, 2 or 3").format(value=value),
        _("set {key}=1 (hide TensorFlow's info lines)").format(key=key),
    )


# --- identities -----------------------------------------------------------------------------


def user_id(key: str, value: str) -> Problem | None:
    if not (value.isascii() and value.isdigit()):
        return Problem(key, _("is {value!r}, not a number").format(value=value), _("set it to the output of `id -u`"))
    if int(value) == 0:
        return Problem(key, _("is 0 (root); the lab never runs as root"), _("set it to your own user id from `id -u`"))
    return None


def group_id(key: str, value: str) -> Problem | None:
    if value.isascii() and value.isdigit():
        return None
    return Problem(key, _("is {value!r}, not a number").format(value=value), _("set it to the output of `id -g`"))


def device_group(device: str) -> Check:
    """A numeric group id for `device` (group names fail: the image has no such groups)."""

    def check(key: str, value: str) -> Problem | None:
        if not (value.isascii() and value.isdigit()):
            return Problem(
                key,
                _("is {value!r}, not a numeric group id").format(value=value),
                _("set it to the number from `stat -c %g {device}`").format(device=device),
            )
        if int(value) == 0:
            return Problem(
                key,
                _("is 0, root's group; the lab is never given root's group"),
                _(
                    "delete the line (a device open to everyone needs no group), or set the number from "
                    "`stat -c %g {device}` when it is not 0"
                ).format(device=device),
            )
        return None

    return check


def token(key: str, value: str) -> Problem | None:
    if len(value) < MIN_TOKEN_LENGTH:
        return Problem(
            key,
            _("is {length} characters; at least {minimum} are required").format(
                length=len(value), minimum=MIN_TOKEN_LENGTH
            ),
            _("delete the line to get a generated token, or use a longer one"),
        )
    if not TOKEN_PATTERN.match(value):
        return Problem(
            key,
            _("has characters other than letters, digits, '-' and '_'"),
            _("delete the line to get a generated token"),
        )
    return None


# --- words ----------------------------------------------------------------------------------


def exact_bool(key: str, value: str) -> Problem | None:
    if value in ("true", "false"):
        return None
    return Problem(
        key,
        _("is {value!r}, but only 'true' or 'false' is read").format(value=value),
        _("set {key}=true or {key}=false").format(key=key),
    )


def flavour(key: str, value: str) -> Problem | None:
    if value in FLAVOURS:
        return None
    return Problem(
        key,
        _("is {value!r}, not one of {flavours}").format(value=value, flavours=", ".join(FLAVOURS)),
        _("set {key}=cpu, nvidia or rocm").format(key=key),
    )


def gfx_override(key: str, value: str) -> Problem | None:
    if gfx.from_override(value) is not None:
        return None
    return Problem(
        key,
        _("is {value!r}, but ROCm expects three numbers like 10.3.0").format(value=value),
        _("set the value the lab's doctor prints for your card, or delete the line"),
    )


def visible_devices(key: str, value: str) -> Problem | None:
    if re.fullmatch(r"[0-9A-Za-z\-]+(,[0-9A-Za-z\-]+)*", value):
        return None
    return Problem(
        key,
        _("is {value!r}, not a comma-separated list of device indices").format(value=value),
        _("set {key}=0 or delete the line").format(key=key),
    )


def compose_files(key: str, value: str) -> Problem | None:
    # Compose splits COMPOSE_FILE on ':' (COMPOSE_PATH_SEPARATOR) and reads each file.
    if "," not in value and all(part.endswith((".yaml", ".yml")) for part in value.split(":")):
        return None
    return Problem(
        key,
        _("is {value!r}, not a list of compose files").format(value=value),
        _("run `scripts/lab setup`, or delete the line"),
    )


# --- references and addresses ---------------------------------------------------------------

# distribution/reference regexp.go, piece by piece.
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}"
IMAGE_REFERENCE = re.compile(rf"({_NAME})(?::{_TAG})?(?:@{_DIGEST})?", re.ASCII)
NAME_TOTAL_LENGTH_MAX = 255  # reference.go
# go-digest's registered algorithms and the length of their hex encoding (lowercase only).
DIGEST_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
# ParseNormalizedNamed: a 64-hex name would read as an image ID.
IDENTIFIER = re.compile(r"[a-f0-9]{64}")


def _digest_ok(digest: str) -> bool:
    algorithm, _, encoded = digest.partition(":")
    length = DIGEST_LENGTHS.get(algorithm)
    return length is not None and len(encoded) == length and re.fullmatch(r"[0-9a-f]+", encoded) is not None


def _first_component_is_a_path(name: str) -> bool:
    # normalize.go splitDockerDomain: without '.', ':' or "localhost" the first component is
    # part of the repository path (Docker Hub), and paths are lowercase. Newer releases read a
    # capitalised first component as a registry host instead; either way it is a mistake.
    first, slash, _ = name.partition("/")
    return not slash or (not any(c in first for c in ".:") and first != "localhost")


def image(key: str, value: str) -> Problem | None:
    match = IMAGE_REFERENCE.fullmatch(value)
    digest = value.partition("@")[2]
    name = match.group(1) if match else ""
    if (
        match
        and len(name) <= NAME_TOTAL_LENGTH_MAX
        and not IDENTIFIER.fullmatch(name)
        and not (_first_component_is_a_path(name) and name.split("/")[0].lower() != name.split("/")[0])
        and (not digest or _digest_ok(digest))
    ):
        return None
    uppercase = value.lower() != value and IMAGE_REFERENCE.fullmatch(value.lower())
    message = (
        _("{value!r} is not a valid image reference (names are lowercase)")
        if uppercase
        else _("{value!r} is not a valid image reference")
    )
    return Problem(
        key,
        message.format(value=value),
        _("use the form name:tag or name@sha256:<digest>, e.g. courselab.invalid/lab:2027-spring-cpu"),
    )


def pull_policy(key: str, value: str) -> Problem | None:
    # Compose also knows if_not_present and always; labkit.pullpolicy decides what the lab takes.
    found = pullpolicy.policy_problem(key, value)
    return Problem(key, *found) if found else None


def ip_address(key: str, value: str) -> Problem | None:
    bare = value[1:-1] if value.startswith("[") and value.endswith("]") else value
    try:
        # Python's parser also allows an IPv6 zone (%eth0); Go's net.ParseIP does not.
        if "%" not in bare:
            ipaddress.ip_address(bare)
            return None
    except ValueError:
        pass
    return Problem(
        key,
        _("is {value!r}, not an IP address").format(value=value),
        _("set {key}=127.0.0.1 (only this computer can connect)").format(key=key),
    )


def language(key: str, value: str) -> Problem | None:
    if value.strip().lower() in LANGUAGES:
        return None
    return Problem(
        key,
        _("is {value!r}, not a language the lab has").format(value=value),
        _("set {key}=en or {key}=vi").format(key=key),
    )


def locale_name(key: str, value: str) -> Problem | None:
    """Any locale name is fine: one the lab has no catalogue for means English."""
    return None


def host_folder(key: str, value: str) -> Problem | None:
    # A Windows path pasted into WSL2's .env: compose keeps it as a relative name.
    if re.match(r"^[A-Za-z]:[\\/]", value) or "\\" in value:
        return Problem(
            key,
            _("is {value!r}, a Windows path; Docker on Linux and WSL2 needs a Linux path").format(value=value),
            _("write it as a Linux path, e.g. /mnt/c/Users/you/work or ./work"),
        )
    return None
