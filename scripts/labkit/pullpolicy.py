"""When may compose pull the lab image? Only an image pinned by digest, never a tag.

A tag can be moved or re-pushed by whoever controls its namespace; a digest names one exact
image. So: LAB_PULL_POLICY (and its per-flavour variants) other than `never`/`build` is
refused unless the matching image variable is `name@sha256:...`. Pure: values in, problems out.
"""

from __future__ import annotations

from collections.abc import Mapping

from labkit.i18n import _

# The pull policy variable of each image variable, as the compose files pair them.
PAIRS = {
    "LAB_PULL_POLICY": "LAB_IMAGE",
    "LAB_NVIDIA_PULL_POLICY": "LAB_NVIDIA_IMAGE",
    "LAB_ROCM_PULL_POLICY": "LAB_ROCM_IMAGE",
}
# Compose's values (compose-spec: services.pull_policy). `never` and `build` never pull.
NO_PULL = ("never", "build")
PULLING = ("missing", "if_not_present", "always")


def policy_problem(key: str, value: str) -> tuple[str, str] | None:
    """(message, fix) when `value` is not a pull policy this lab accepts, in the student's
    language."""
    if value in NO_PULL + PULLING:
        return None
    return (
        _("is {value!r}, not one of never, build, missing").format(value=value),
        _("set {key}=never (build here) or delete the line").format(key=key),
    )


def pin_problems(values: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(key, message, fix) for each pulling policy whose image is not pinned by digest; the
    message and the fix in the student's language."""
    found = []
    for policy_key, image_key in PAIRS.items():
        policy = values.get(policy_key, "")
        if policy not in PULLING:
            continue
        image = values.get(image_key, "")
        if "@sha256:" not in image:
            found.append(
                (
                    policy_key,
                    _(
                        "is {policy!r} but {image_key} is {image!r}, not pinned by digest; "
                        "compose would pull whatever that tag points to"
                    ).format(policy=policy, image_key=image_key, image=image or "unset"),
                    _("set {image_key}=registry/name@sha256:... (from `scripts/lab release`) or {key}=never").format(
                        image_key=image_key, key=policy_key
                    ),
                )
            )
    return found
