"""Check settings against the table (labkit.settings), the same way in the container and on
the host. Pure functions: values in, problems (and notices) out.

An empty value must never reach ROCm or TensorFlow (HSA_OVERRIDE_GFX_VERSION="" makes ROCm
find no GPU at all), so `sanitize` drops empty variables before anything is started.

Messages and fixes are made in the student's language (labkit.i18n) when a check runs; the
variable names in them never are translated.
"""

from __future__ import annotations

from collections.abc import Mapping

from labkit import pullpolicy, settings
from labkit.i18n import _
from labkit.values import FLAVOURS, Problem

__all__ = ["FLAVOURS", "Problem", "notices", "sanitize", "syntax_problem", "validate"]


def _check(name: str, value: str, setting: settings.Setting) -> Problem | None:
    if value == "":
        # Empty means "use the default", except where the empty value itself reaches a reader.
        if setting.when_empty is None:
            return None
        message, fix = setting.when_empty
        return Problem(name, _(message), _(fix))
    return setting.check(name, value)


def _gpu_groups(values: Mapping[str, str]) -> Problem | None:
    """compose.rocm.yaml adds two group slots, one per device: LAB_RENDER_GID (else LAB_GID,
    a group the lab has anyway) and LAB_KFD_GID (its old name LAB_VIDEO_GID, else nogroup,
    65534). Compose refuses a group_add list with the same number twice."""
    render = settings.effective(values, "LAB_RENDER_GID")
    kfd = settings.effective(values, "LAB_KFD_GID")
    if render != kfd:
        return None
    kfd_name = next((name for name in ("LAB_KFD_GID", "LAB_VIDEO_GID") if values.get(name)), "LAB_KFD_GID")
    if values.get("LAB_RENDER_GID"):
        return Problem(
            kfd_name,
            _(
                "equals LAB_RENDER_GID ({group}): /dev/kfd and the render node share that group, and compose "
                "refuses the same group twice"
            ).format(group=render),
            _("delete the {key} line (LAB_RENDER_GID covers both devices)").format(key=kfd_name),
        )
    return Problem(
        kfd_name,
        _(
            "equals LAB_GID ({group}), the group the render slot falls back to, and compose refuses the same "
            "group twice"
        ).format(group=kfd),
        _("set LAB_RENDER_GID to the same number and delete the {key} line").format(key=kfd_name),
    )


def _visible_device_filters(values: Mapping[str, str]) -> Problem | None:
    if values.get("ROCR_VISIBLE_DEVICES") and values.get("HIP_VISIBLE_DEVICES"):
        return Problem(
            "HIP_VISIBLE_DEVICES",
            _("is set together with ROCR_VISIBLE_DEVICES; the two filters stack and can hide every GPU"),
            _("keep ROCR_VISIBLE_DEVICES and delete HIP_VISIBLE_DEVICES"),
        )
    return None


def _pins(values: Mapping[str, str]) -> list[Problem]:
    """A pulling policy only for an image pinned by digest (labkit.pullpolicy)."""
    return [Problem(*found) for found in pullpolicy.pin_problems(values)]


CROSS_CHECKS = (_gpu_groups, _visible_device_filters)


def validate(values: Mapping[str, str]) -> list[Problem]:
    """Check every setting of the table present in `values` (old names too). Other keys are
    left alone: .env files hold the student's own variables too. No setting is required: every
    compose variable has a default (tests/config/test_settings_vs_compose.py)."""
    problems = []
    for setting in settings.SETTINGS:
        for name in (setting.name, *setting.old_names):
            if name in values and (problem := _check(name, values[name], setting)) is not None:
                problems.append(problem)
    problems += [problem for check in CROSS_CHECKS if (problem := check(values)) is not None]
    return problems + _pins(values)


def notices(values: Mapping[str, str]) -> list[str]:
    """One line per old name still in use: it works, and says what to rename it to (in the
    student's language)."""
    lines = []
    for old, new in settings.RENAMED.items():
        if not values.get(old):
            continue
        if values.get(new):
            template = _("{old} is ignored: {new} is set too (delete the {old} line from .env)")
        else:
            template = _("{old} is the old name of {new}: rename it in .env (the old name still works)")
        lines.append(template.format(old=old, new=new))
    return lines


def syntax_problem(message: str) -> Problem:
    """A line compose cannot read at all: it refuses the whole file."""
    # `message` is the parser's own (compose's words, labhost.envsyntax): left as it is.
    return Problem(
        "",
        _("compose cannot read this line: {message}").format(message=message),
        _("close the quote or fix the name on that line"),
    )


def sanitize(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment with empty variables removed, so none reaches ROCm or TensorFlow."""
    return {key: value for key, value in environ.items() if value != ""}
