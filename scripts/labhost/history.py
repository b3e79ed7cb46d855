"""Which layer of an image a build step made, read from `docker history`.

The legacy builder names an intermediate image for every step, but BuildKit (what compose
builds with, and `scripts/lab release` too) leaves `<missing>` there. What works for both:
walk the history oldest first, count the entries that made a layer, and take the same
position in the image's RootFS layers. An entry made a layer when it ran or copied
something; metadata instructions (ENV, LABEL, ...) did not. The count must equal the
image's layer count, or nothing is claimed.

The release manifest finds the lab layer from the image configuration's own history instead
(labhost.dockerload.layer_made_by: exact, the same on every store); this module measures what
a layer installed as `docker history` reports it (the lab layer's size budget,
tests/image/test_lab_layer_lock.py), which the containerd store counts in disk blocks.

Formats (real outputs in tests/host/fixtures/docker/history-*.jsonl, Docker CLI 28.2 on
Engine 20.10): the legacy builder writes `/bin/sh -c #(nop)  ENV ...` for metadata and
`/bin/sh -c #(nop) COPY ...` for copies, `|N ARG=... /bin/sh -c ...` or `/bin/sh -c ...`
for RUN; BuildKit writes the instruction itself (`ENV ...`, `COPY ... # buildkit`,
`RUN ... # buildkit`, `WORKDIR ...`, which makes a layer there). `docker import` leaves an
empty CreatedBy on its one layer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from labhost import docker

METADATA = ("ENV", "ARG", "LABEL", "USER", "EXPOSE", "ENTRYPOINT", "CMD", "HEALTHCHECK", "STOPSIGNAL", "SHELL",
            "VOLUME", "ONBUILD", "MAINTAINER")  # fmt: skip
NOP = re.compile(r"#\(nop\)\s+(\w+)")


@dataclass(frozen=True)
class Step:
    created_by: str
    size: int  # bytes, as `docker history` prints them (decimal units)


def parse_size(text: str) -> int:
    """`docker history` sizes: '461MB', '1.2GB', '0B' (decimal units, as Docker prints them)."""
    match = re.fullmatch(r"([\d.]+)\s*([kMGT]?B)", text.strip())
    if not match:
        return 0
    factor = {"B": 1, "kB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}[match.group(2)]
    return int(float(match.group(1)) * factor)


def makes_layer(created_by: str) -> bool:
    nop = NOP.search(created_by)
    if nop:  # the legacy builder's metadata steps, and its COPY/ADD
        return nop.group(1).upper() in ("COPY", "ADD")
    first = created_by.strip().split(" ", 1)[0].upper()
    return first not in METADATA


def layer_of(steps_newest_first: Sequence[Step], layers: Sequence[str], marker: str) -> tuple[str, Step] | None:
    """(diff ID, step) of the newest step whose command contains `marker`, or None when the
    history cannot be matched to the layers with certainty."""
    oldest_first = list(reversed(steps_newest_first))
    layer_steps = [step for step in oldest_first if makes_layer(step.created_by)]
    if len(layer_steps) != len(layers):
        return None
    found = None
    for index, step in enumerate(layer_steps):
        if marker in step.created_by:
            found = (layers[index], step)
    return found


def layer_installed(run: docker.Runner, tag: str, marker: str) -> tuple[str, Step] | None:
    """(diff ID, step) of the layer the step containing `marker` made, with the size `docker
    history` reports for it, or None."""
    done = run(["docker", "history", "--no-trunc", "--format", "{{json .}}", tag])
    layers = run(["docker", "image", "inspect", "--format", "{{json .RootFS.Layers}}", tag])
    if done.returncode != 0 or layers.returncode != 0:
        return None
    steps = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    parsed = [Step(step.get("CreatedBy", ""), parse_size(step.get("Size", "0"))) for step in steps]
    return layer_of(parsed, json.loads(layers.stdout), marker)
