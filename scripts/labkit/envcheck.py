"""The lab's settings: what each knob accepts, checked the same way in the container and on
the host. Pure functions: values in, problems out.

An empty value must never reach ROCm or TensorFlow (HSA_OVERRIDE_GFX_VERSION="" makes ROCm
find no GPU at all), so `sanitize` drops empty variables before anything is started.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from labkit import gfx, pullpolicy

FLAVOURS = ("cpu", "nvidia", "rocm")
MIN_TOKEN_LENGTH = 16
# Tokens end up in a URL the student clicks: keep them to characters that need no escaping.
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_\-]+$")
# docker's reference grammar, simplified: [registry[:port]/]path[:tag][@digest].
IMAGE_PATTERN = re.compile(
    r"^(?:[a-z0-9.\-]+(?::[0-9]+)?/)?[a-z0-9]+(?:[._\-]+[a-z0-9]+)*"
    r"(?:/[a-z0-9]+(?:[._\-]+[a-z0-9]+)*)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127})?(?:@sha256:[a-f0-9]{64})?$"
)
BIND_ADDRESS_PATTERN = re.compile(r"^(?:\d{1,3}\.){3}\d{1,3}$")


@dataclass(frozen=True)
class Problem:
    """One bad setting: which, what is wrong, and the one-line fix."""

    key: str
    message: str
    fix: str

    def line(self) -> str:
        return f"{self.key}: {self.message}. Fix: {self.fix}."


def _exact_bool(key: str, value: str) -> Problem | None:
    if value in ("true", "false"):
        return None
    return Problem(key, f"is {value!r}, but only 'true' or 'false' is read", f"set {key}=true or {key}=false")


def _id_number(key: str, value: str) -> Problem | None:
    if not value.isdigit():
        return Problem(
            key, f"is {value!r}, not a number", f"set it to the output of `id -{'u' if 'UID' in key else 'g'}`"
        )
    if int(value) == 0 and key in ("LAB_UID",):
        return Problem(key, "is 0 (root); the lab never runs as root", "set it to your own user id from `id -u`")
    return None


def _group_id(key: str, value: str) -> Problem | None:
    if value.isdigit():
        return None
    return Problem(
        key,
        f"is {value!r}, not a numeric group id",
        f"set it to the number from `stat -c %g {_GROUP_DEVICE.get(key, 'the device')}`",
    )


_GROUP_DEVICE = {"LAB_RENDER_GID": "/dev/dri/renderD128", "LAB_VIDEO_GID": "/dev/kfd"}


def _port(key: str, value: str) -> Problem | None:
    if value.isdigit() and 1 <= int(value) <= 65535:
        return None
    return Problem(key, f"is {value!r}, not a port between 1 and 65535", f"set {key}=8888 or another free port")


def _positive_seconds(key: str, value: str) -> Problem | None:
    if value.isdigit() and int(value) > 0:
        return None
    return Problem(key, f"is {value!r}, not a whole number of seconds above 0", f"set {key}=120")


def _override(key: str, value: str) -> Problem | None:
    if gfx.from_override(value) is not None:
        return None
    return Problem(
        key,
        f"is {value!r}, but ROCm expects three numbers like 10.3.0",
        "set the value the lab's doctor prints for your card, or delete the line",
    )


def _token(key: str, value: str) -> Problem | None:
    if len(value) < MIN_TOKEN_LENGTH:
        return Problem(
            key,
            f"is {len(value)} characters; at least {MIN_TOKEN_LENGTH} are required",
            "delete the line to get a generated token, or use a longer one",
        )
    if not TOKEN_PATTERN.match(value):
        return Problem(
            key, "has characters other than letters, digits, '-' and '_'", "delete the line to get a generated token"
        )
    return None


def _flavour(key: str, value: str) -> Problem | None:
    if value in FLAVOURS:
        return None
    return Problem(key, f"is {value!r}, not one of {', '.join(FLAVOURS)}", f"set {key}=cpu, nvidia or rocm")


def _image(key: str, value: str) -> Problem | None:
    if IMAGE_PATTERN.match(value):
        return None
    return Problem(
        key,
        f"{value!r} is not a valid image reference",
        "use the form name:tag, e.g. courselab.invalid/lab:2027-spring-cpu",
    )


def _pull_policy(key: str, value: str) -> Problem | None:
    found = pullpolicy.policy_problem(key, value)
    return Problem(key, *found) if found else None


def _bind_address(key: str, value: str) -> Problem | None:
    if BIND_ADDRESS_PATTERN.match(value) and all(int(p) < 256 for p in value.split(".")):
        return None
    return Problem(key, f"is {value!r}, not an IPv4 address", f"set {key}=127.0.0.1 (only this computer can connect)")


def _visible_devices(key: str, value: str) -> Problem | None:
    if re.fullmatch(r"[0-9A-Za-z\-]+(,[0-9A-Za-z\-]+)*", value):
        return None
    return Problem(
        key, f"is {value!r}, not a comma-separated list of device indices", f"set {key}=0 or delete the line"
    )


def _memory(key: str, value: str) -> Problem | None:
    if re.fullmatch(r"\d+(\.\d+)?[bkmg]?", value.lower()):
        return None
    return Problem(key, f"is {value!r}, not a size like 8g or 512m", f"set {key}=8g, or 0 for no limit")


def _cpus(key: str, value: str) -> Problem | None:
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return None
    return Problem(key, f"is {value!r}, not a number of CPUs", f"set {key}=4, or 0 for all CPUs")


def _language(key: str, value: str) -> Problem | None:
    if value.lower() in ("en", "vi"):
        return None
    return Problem(key, f"is {value!r}, not a language the lab has", f"set {key}=en or {key}=vi")


def _count(key: str, value: str) -> Problem | None:
    if value.isdigit() and int(value) >= 64:
        return None
    return Problem(key, f"is {value!r}; JupyterLab and a kernel need at least 64 processes", f"set {key}=2048")


Check = Callable[[str, str], "Problem | None"]

# Every knob the stack reads, with its check. Unknown keys are left alone: .env files hold
# the student's own variables too.
CHECKS: dict[str, Check] = {
    "LAB_UID": _id_number,
    "LAB_GID": _id_number,
    "LAB_RENDER_GID": _group_id,
    "LAB_VIDEO_GID": _group_id,
    "LAB_PORT": _port,
    "LAB_HOST_PORT": _port,
    "LAB_HOST_ADDRESS": _bind_address,
    "LAB_BIND_ADDRESS": _bind_address,
    "LAB_FLAVOUR": _flavour,
    "LAB_REQUIRE_GPU": _exact_bool,
    "LAB_GATE_TIMEOUT": _positive_seconds,
    "LAB_IMAGE": _image,
    "LAB_NVIDIA_IMAGE": _image,
    "LAB_ROCM_IMAGE": _image,
    "LAB_PULL_POLICY": _pull_policy,
    "LAB_NVIDIA_PULL_POLICY": _pull_policy,
    "LAB_ROCM_PULL_POLICY": _pull_policy,
    "LAB_MEMORY_LIMIT": _memory,
    "LAB_CPUS": _cpus,
    "LAB_PIDS_LIMIT": _count,
    "LAB_LANG": _language,
    "JUPYTER_TOKEN": _token,
    "TF_FORCE_GPU_ALLOW_GROWTH": _exact_bool,
    "HSA_OVERRIDE_GFX_VERSION": _override,
    "ROCR_VISIBLE_DEVICES": _visible_devices,
    "HIP_VISIBLE_DEVICES": _visible_devices,
}

# Keys where an empty value is itself the mistake, not "use the default".
EMPTY_IS_WRONG = {
    "HSA_OVERRIDE_GFX_VERSION": Problem(
        "HSA_OVERRIDE_GFX_VERSION",
        "is set but empty, and an empty override makes ROCm find no GPU at all",
        "delete the line, or set the value the lab's doctor prints for your card",
    ),
}


def validate(values: Mapping[str, str]) -> list[Problem]:
    """Check every known setting present in `values`; empty means "use the default"."""
    problems = []
    for key, check in CHECKS.items():
        if key not in values:
            continue
        value = values[key]
        if value == "":
            if key in EMPTY_IS_WRONG:
                problems.append(EMPTY_IS_WRONG[key])
            continue
        problem = check(key, value)
        if problem is not None:
            problems.append(problem)
    video, render = values.get("LAB_VIDEO_GID"), values.get("LAB_RENDER_GID")
    if video and video == render:
        problems.append(
            Problem(
                "LAB_VIDEO_GID",
                f"equals LAB_RENDER_GID ({video}); compose refuses the same group twice",
                "set LAB_VIDEO_GID to the video group (`getent group video | cut -d: -f3`)",
            )
        )
    problems += [Problem(*found) for found in pullpolicy.pin_problems(values)]
    if values.get("ROCR_VISIBLE_DEVICES") and values.get("HIP_VISIBLE_DEVICES"):
        problems.append(
            Problem(
                "HIP_VISIBLE_DEVICES",
                "is set together with ROCR_VISIBLE_DEVICES; the two filters stack and can hide every GPU",
                "keep ROCR_VISIBLE_DEVICES and delete HIP_VISIBLE_DEVICES",
            )
        )
    return problems


def sanitize(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment with empty variables removed, so none reaches ROCm or TensorFlow."""
    return {key: value for key, value in environ.items() if value != ""}
