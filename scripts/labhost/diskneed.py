"""How much free disk `scripts/lab up` needs before it starts, decided from what the engine
already holds. Pure.

A first start pulls the flavour's base and builds the lab layer on it; the bases are most of
that (the ROCm ones are tens of GB unpacked). When the base is already in the engine, only the
lab layer has to fit; when the lab image is there too, nothing is built at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from labkit.i18n import _

GB = 1024**3
# The base pulled and unpacked, plus the lab layer, by flavour (rocm/tensorflow images are tens
# of GB unpacked, TensorFlow's -gpu images over ten).
FIRST_START = {"cpu": 6 * GB, "nvidia": 15 * GB, "rocm": 45 * GB}
# The lab layer alone: under 300 MB itself (tests/image/test_lab_layer_lock.py), plus pip's
# downloads and the build's temporary files while it is made.
LAB_LAYER = 3 * GB


@dataclass(frozen=True)
class DiskNeed:
    bytes: int
    what: str  # what has to fit, as the doctor says it


def decide(*, flavour: str, lab_image_present: bool, base_present: bool) -> DiskNeed:
    """The space the start needs for its images (datasets and caches come on top)."""
    if lab_image_present:
        return DiskNeed(0, _("the {flavour} image is already built").format(flavour=flavour))
    if base_present:
        return DiskNeed(
            LAB_LAYER,
            _("the lab layer on the {flavour} base already here needs about {gb} GB").format(
                flavour=flavour, gb=LAB_LAYER // GB
            ),
        )
    return DiskNeed(
        FIRST_START[flavour],
        _("the {flavour} image (its base and the lab layer) needs about {gb} GB").format(
            flavour=flavour, gb=FIRST_START[flavour] // GB
        ),
    )
