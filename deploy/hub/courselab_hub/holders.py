"""Who holds which GPU, read from the engine: the labels the hub put on each student's
container (plan.labels). The engine is the truth, so the answer survives a hub restart.

`rows` and `holders` are pure functions of `docker ps`-style records (the Engine API's
GET /containers/json: Names, Labels, State, Status); `list_containers` is the I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from courselab_hub.plan import LABEL_PREFIX

# A container in these states holds its GPU (`created`: a server being started).
LIVE_STATES = ("created", "running", "restarting")


@dataclass(frozen=True)
class Row:
    user: str
    flavour: str
    gpu: str  # "" on the CPU
    state: str
    status: str
    container: str


def rows(containers: list[dict]) -> list[Row]:
    found = []
    for record in containers:
        labels = record.get("Labels") or {}
        if f"{LABEL_PREFIX}.user" not in labels:
            continue
        found.append(
            Row(
                user=labels[f"{LABEL_PREFIX}.user"],
                flavour=labels.get(f"{LABEL_PREFIX}.flavour", ""),
                gpu=labels.get(f"{LABEL_PREFIX}.gpu", ""),
                state=record.get("State", ""),
                status=record.get("Status", ""),
                container=(record.get("Names") or ["?"])[0].lstrip("/"),
            )
        )
    return sorted(found, key=lambda row: (row.gpu == "", row.gpu, row.user))


def holders(containers: list[dict]) -> dict[str, str]:
    """user -> GPU for every live server that holds one."""
    return {row.user: row.gpu for row in rows(containers) if row.gpu and row.state in LIVE_STATES}


def table(found: list[Row]) -> str:
    if not found:
        return "No student servers."
    header = ("GPU", "USER", "FLAVOUR", "STATE", "CONTAINER")
    lines = [header] + [(r.gpu or "cpu", r.user, r.flavour, r.status or r.state, r.container) for r in found]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in lines
    )


def label_filter(prefix: str) -> dict:
    return {"label": f"{LABEL_PREFIX}={prefix}"}


def list_containers(client, prefix: str) -> list[dict]:
    """Every container of this hub (docker-py APIClient), stopped ones too."""
    return client.containers(all=True, filters=label_filter(prefix))
