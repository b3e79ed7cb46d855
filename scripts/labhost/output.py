"""Printing check results: text for people (colour only on a terminal), JSON for tools."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TextIO

from labkit.i18n import _

from labhost.checkbase import CheckResult, Status
from labhost.checks import blocking

COLOURS = {Status.OK: "\033[32m", Status.WARN: "\033[33m", Status.FAIL: "\033[31m"}
RESET = "\033[0m"


def use_colour(stream: TextIO, environ: Mapping[str, str]) -> bool:
    """https://no-color.org: any non-empty NO_COLOR turns colour off; so do pipes and TERM=dumb."""
    if environ.get("NO_COLOR", ""):
        return False
    if environ.get("TERM") == "dumb":
        return False
    return hasattr(stream, "isatty") and stream.isatty()


def text(results: list[CheckResult], *, colour: bool) -> str:
    width = max((len(r.name) for r in results), default=0)
    lines = []
    for r in results:
        tag = f"[{r.status.value}]".ljust(6)
        if colour:
            tag = f"{COLOURS[r.status]}{tag}{RESET}"
        lines.append(f"{tag} {r.name.ljust(width)}  {r.detail}")
        if r.fix and r.status is not Status.OK:
            lines.append(f"{' ' * 7}{' ' * width}  " + _("fix: {fix}").format(fix=r.fix))
    failed = sum(r.status is Status.FAIL for r in results)
    warned = sum(r.status is Status.WARN for r in results)
    lines.append("")
    if failed:
        lines.append(
            _("{count} problem(s) stop the lab from starting; fix them and run the doctor again.").format(count=failed)
        )
    elif warned:
        lines.append(_("Ready to start ({count} warning(s)): scripts/lab up").format(count=warned))
    else:
        lines.append(_("Ready to start: scripts/lab up"))
    return "\n".join(lines)


def as_json(results: list[CheckResult], extra: Mapping[str, object] | None = None) -> str:
    data = {"ok": not blocking(results), "checks": [r.as_dict() for r in results]}
    data.update(extra or {})
    return json.dumps(data, indent=1)
