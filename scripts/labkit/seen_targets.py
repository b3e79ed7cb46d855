"""The run-time GPU list TensorFlow printed when it refused a card, kept per TensorFlow build.

Which targets TensorFlow-ROCm accepts is read from its libraries when the image is built
(image/rocm_runtime_list.py). When that fails (a build that keeps the list in another form),
the lab learns it the first time TensorFlow refuses a card: the GPU check records the printed
list on the cache volume, and from then on the check, `scripts/lab setup` and the doctor use it.
What TensorFlow printed also wins over what the build read, should they ever differ: it is
what TensorFlow did.

The key is the TensorFlow build the image recorded (`tensorflow_id` in
/opt/lab/rocm-tf-targets.json, the hash of its wheel's file list), not the image ID: a
container cannot see its own image ID, and a rebuilt lab layer on the same base keeps what was
learnt, while a new base gets a new key. The host reads the same file through Docker, with the
cache volume mounted at /cache (labhost.survey).

Pure functions plus two small I/O helpers; never raises on a missing or damaged record.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from labkit import atomic, gfx

# The lab's state folder on the cache volume (labkit.entrypoint's CONTAINER_PATHS.state), and
# the records' folder in it.
STATE_DIR = Path("/cache/lab")
FOLDER = "rocm-runtime-targets"
TENSORFLOW_ID = re.compile(r"^sha256:([0-9a-f]{64})$")


@dataclass(frozen=True)
class Seen:
    printed: str  # the list exactly as TensorFlow printed it
    seen_at: str  # ISO 8601, UTC

    @property
    def targets(self) -> list[gfx.GfxTarget]:
        return gfx.parse_target_list(self.printed)


def relative_path(tensorflow_id: str) -> str | None:
    """The record's path under the state folder, or None for an id that is not one."""
    match = TENSORFLOW_ID.match(tensorflow_id or "")
    return f"{FOLDER}/{match.group(1)}.json" if match else None


def record_text(printed: str, *, seen_at: str) -> str:
    names = [target.llvm_name for target in gfx.parse_target_list(printed)]
    return json.dumps({"printed": printed, "targets": names, "seen_at": seen_at}, indent=1) + "\n"


def parse(text: str | None) -> Seen | None:
    try:
        data = json.loads(text or "")
        printed, seen_at = data["printed"], data["seen_at"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(printed, str) or not isinstance(seen_at, str) or not gfx.parse_target_list(printed):
        return None
    return Seen(printed, seen_at)


def read(state_dir: Path, tensorflow_id: str) -> Seen | None:
    relative = relative_path(tensorflow_id)
    if relative is None:
        return None
    try:
        return parse((state_dir / relative).read_text())
    except OSError:
        return None


def remember(state_dir: Path, tensorflow_id: str, printed: str, *, seen_at: str) -> Path | None:
    """Record what TensorFlow printed; None when there is no key or the volume is not writable
    (the check's verdict does not depend on it: this start already knows the printed list)."""
    relative = relative_path(tensorflow_id)
    if relative is None or gfx.has_glued_targets(printed) or not gfx.parse_target_list(printed):
        return None
    path = state_dir / relative
    try:
        with atomic.replacing(path, text=True) as stream:
            stream.write(record_text(printed, seen_at=seen_at))
    except OSError:
        return None
    return path
