"""labtrain: the machinery behind the course's training script, installed in the lab image.

lab/train.py (the file students read and change) calls these functions for everything that
is not the lesson: command-line settings, picking the device(s), reading the data, the run
folder (resume, results.json, plots) and one-line errors. bench and the notebooks import this
package, never the student's train.py, so an edit there cannot break them.

TensorFlow is imported by the modules that need it, not here: `import labtrain` stays cheap.
"""

from __future__ import annotations

from labtrain.errors import DatasetUnavailable, TrainError, explain_errors
from labtrain.settings import Settings, from_command_line

__all__ = [
    "DatasetUnavailable",
    "Settings",
    "TrainError",
    "explain_errors",
    "from_command_line",
    "load_data",
    "open_run",
    "place",
]


def place(settings: Settings):
    """The device(s) to train on, as a tf.distribute strategy (see labtrain.devices)."""
    from labtrain import devices

    return devices.place(settings)


def load_data(settings: Settings, *, replicas: int = 1):
    """Training and validation batches (see labtrain.data)."""
    from labtrain import data

    return data.load(settings, replicas=replicas)


def open_run(settings: Settings, *, data, placement):
    """The run folder: resume state, callbacks, results.json (see labtrain.runs)."""
    from labtrain import runs

    return runs.open_run(settings, data=data, placement=placement)
