"""The manifests `release` and `export` write, read back without trusting them: any shape a
file can have gives a value or one line saying what is wrong, never a traceback.

    releases/<term>/<flavour>.json      release: what the image is and reports about itself
    handout/courselab-<term>-<flavour>.json   export: the same, plus the hand-out file's facts
                                              and the .env lines to hand out

The image is named by its dockerload.Identity (configuration digest and layer diff IDs), the
same on every engine and store; `docker image inspect .Id` is not (docs/instructors.md).
The .env lines a hand-out carries are checked as settings (labkit.settings' table and
labkit.envcheck) and must name exactly the image being imported, never pulled, before
`import` prints them for a student to paste.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from labkit import envcheck, settings
from labkit import values as setting_values

from labhost.dockerload import DIGEST, Identity


@dataclass(frozen=True)
class Released:
    tag: str
    flavour: str
    identity: Identity
    lab_diff_id: str | None


@dataclass(frozen=True)
class Expected:
    """What `import` checks a hand-out file and the image in it against."""

    released: Released
    sha256: str
    compressed_size: int
    tar_size: int  # the uncompressed `docker save` stream
    unpacked: int  # the layers, unpacked
    env_lines: tuple[str, ...]


class Malformed(ValueError):
    pass


KIND_NAMES = {dict: "an object", list: "a list", str: "text", int: "a size"}


def _get(obj, key: str, kind: type, where: str):
    if not isinstance(obj, dict) or key not in obj:
        raise Malformed(f"no {where}{key}")
    value = obj[key]
    if not isinstance(value, kind) or (kind is int and (isinstance(value, bool) or value < 0)):
        raise Malformed(f"{where}{key} is not {KIND_NAMES[kind]}")
    return value


def released(data) -> Released:
    """The image a release manifest names (raises Malformed with what is wrong)."""
    image = _get(data, "image", dict, "")
    tag = _get(image, "tag", str, "image.")
    if tag.startswith("-") or setting_values.image("image.tag", tag) is not None:
        raise Malformed(f"image.tag {tag!r} is not an image name")
    config = _get(image, "config", str, "image.")
    diff_ids = _get(image, "diff_ids", list, "image.")
    if not DIGEST.fullmatch(config) or not all(isinstance(d, str) and DIGEST.fullmatch(d) for d in diff_ids):
        raise Malformed("image.config or image.diff_ids is not sha256 digests")
    flavour = _get(data, "flavour", str, "")
    if flavour not in setting_values.FLAVOURS:
        raise Malformed(f"flavour {flavour!r} is not one of {', '.join(setting_values.FLAVOURS)}")
    lab = data.get("lab_layer")
    lab_diff_id = lab.get("diff_id") if isinstance(lab, dict) and isinstance(lab.get("diff_id"), str) else None
    return Released(tag, flavour, Identity(config, tuple(diff_ids)), lab_diff_id)


def read_release(text: str) -> Released | str:
    try:
        return released(json.loads(text))
    except (ValueError, RecursionError) as error:
        return f"not a release manifest ({error})"


def read_handout(manifest_text: str, checksum_text: str) -> Expected | str:
    try:
        data = json.loads(manifest_text)
        image = released(data)
        handout = _get(data, "handout", dict, "")
        lines = _get(data, "env_lines", list, "")
        if not all(isinstance(line, str) for line in lines):
            raise Malformed("env_lines holds something other than lines")
        listed = checksum_text.split()[:1]
        if not listed or len(listed[0]) != 64 or not all(c in "0123456789abcdef" for c in listed[0]):
            raise Malformed("the .sha256 file holds no SHA-256")
        return Expected(
            released=image,
            sha256=listed[0],
            compressed_size=_get(handout, "compressed_size", int, "handout."),
            tar_size=_get(handout, "tar_size", int, "handout."),
            unpacked=_get(handout, "unpacked_size", int, "handout."),
            env_lines=tuple(lines),
        )
    except (ValueError, RecursionError) as error:
        return f"not a hand-out manifest ({error})"


def env_problem(lines: Sequence[str], *, keys: Sequence[str], image: str) -> str | None:
    """Why the .env lines are not exactly the hand-out's (image `image`, never pulled), or
    None. `keys`: the flavour's image and pull-policy variables, the only ones a hand-out sets."""
    values: dict[str, str] = {}
    for line in lines:
        name, equals, value = line.partition("=")
        if not equals or name not in settings.BY_NAME_OF or name in values:
            return f"{line!r} is not a setting line"
        values[name] = value
    if sorted(values) != sorted(keys):
        return f"it sets {', '.join(sorted(values)) or 'nothing'}; a hand-out sets {' and '.join(keys)}"
    problems = envcheck.validate(values)
    if problems:
        return problems[0].line()
    image_key, policy_key = keys
    if values[image_key] != image or values[policy_key] != "never":
        return f"its lines name {values[image_key]!r} ({values[policy_key]}), not {image} (never)"
    return None
