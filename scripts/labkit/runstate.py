"""What this container is doing, for the health check and the login gate: a few files in a
folder of the container's own /tmp (never a volume: a new container starts clean, and a
restarted one is reset by the entrypoint before anything else).

    mode          lab, train, check or shell: what the entrypoint was asked to run
    gate-passed   exists once the GPU check has passed; JupyterLab lets students in only then
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DIR = Path("/tmp/labkit")  # noqa: S108 (the container's own /tmp, see above)


@dataclass(frozen=True)
class RunState:
    folder: Path = DEFAULT_DIR

    @property
    def _mode(self) -> Path:
        return self.folder / "mode"

    @property
    def _passed(self) -> Path:
        return self.folder / "gate-passed"

    def start(self, mode: str) -> None:
        """Record what this container runs. The lab (its main command) starts from scratch,
        also after a restart; any other command keeps what is there, so a `docker compose
        exec lab ... check` in a running lab changes nothing."""
        if mode != "lab" and self.mode() is not None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        self._passed.unlink(missing_ok=True)
        temp = self.folder / f".mode.{os.getpid()}"
        temp.write_text(mode)
        os.replace(temp, self._mode)

    def mode(self) -> str | None:
        try:
            return self._mode.read_text().strip() or None
        except OSError:
            return None

    def mark_gate_passed(self) -> None:
        self._passed.touch()

    def gate_passed(self) -> bool:
        return self._passed.exists()
