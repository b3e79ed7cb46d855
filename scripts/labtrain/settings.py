"""The training settings: defaults from the course script, any of them changeable on the
command line (`python train.py --epochs 3`). Pure: no TensorFlow."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from labkit.i18n import N_, _

DEFAULT_DATASET = "cifar10"
DEFAULT_SYNTHETIC_EXAMPLES = 50_000  # CIFAR-10's training split
# Settings that define what a run's checkpoint is: a resumed run must keep them.
RUN_IDENTITY = ("dataset", "synthetic", "image_size", "width")


@dataclass(frozen=True)
class Settings:
    dataset: str = DEFAULT_DATASET
    epochs: int = 10
    batch_size: int = 128  # per device: with N GPUs a step reads N times as many images
    learning_rate: float = 1e-3
    width: int = 32  # filters in the first convolution block
    output: Path = Path("runs")
    run_name: str | None = None  # default: the dataset's name (+ "-synthetic")
    fresh: bool = False
    max_steps: int | None = None  # cap on training steps per epoch
    steps_per_execution: int = 1
    mixed_precision: bool = False
    xla: bool = False
    synthetic: bool = False
    synthetic_examples: int = DEFAULT_SYNTHETIC_EXAMPLES
    image_size: int | None = None  # default: the dataset's own size (128 when it varies)
    device: str = "auto"  # auto, cpu, gpu, gpu:N, all
    cpu_devices: int = 1  # split the CPU into N logical devices (to try --device all without GPUs)
    data_dir: str | None = None  # default: TFDS_DATA_DIR, else ~/tensorflow_datasets
    download: bool = True
    cache: bool = True
    threads: int | None = None
    seed: int = 42

    @property
    def resolved_run_name(self) -> str:
        return self.run_name or (f"{self.dataset}-synthetic" if self.synthetic else self.dataset)

    @property
    def run_dir(self) -> Path:
        return Path(self.output) / self.resolved_run_name

    def identity(self) -> dict:
        return {key: getattr(self, key) for key in RUN_IDENTITY}

    def record(self) -> dict:
        """The settings as results.json stores them (JSON types only)."""
        record = asdict(self)
        record["output"] = str(self.output)
        record["run_name"] = self.resolved_run_name
        return record


# Help for each option, marked for the catalogue and translated when the parser is built.
HELP = {
    "dataset": N_("a TFDS image-classification dataset (default {default})"),
    "epochs": N_("total epochs of the run, resumed ones included (default {default})"),
    "batch_size": N_("images per step on each device (default {default})"),
    "learning_rate": N_("the optimizer's learning rate (default {default})"),
    "width": N_("filters in the first convolution block (default {default})"),
    "output": N_("folder that holds run folders (default {default})"),
    "run_name": N_("run folder name inside --output (default: the dataset's name); same name = resume"),
    "fresh": N_("start the run over (the old folder is renamed, not deleted)"),
    "max_steps": N_("at most this many training steps per epoch (uses the first N batches)"),
    "steps_per_execution": N_("train steps per call into TensorFlow (default {default})"),
    "mixed_precision": N_("float16 compute with float32 weights (GPU only)"),
    "xla": N_("compile the train step with XLA (jit_compile)"),
    "synthetic": N_("in-memory random data of the same shape: no dataset needed"),
    "synthetic_examples": N_("images per synthetic epoch (default {default})"),
    "image_size": N_("resize images to N x N (default: the dataset's size, 128 if it varies)"),
    "device": N_("auto (first GPU, else CPU), cpu, gpu, gpu:N, or all (every GPU, MirroredStrategy)"),
    "cpu_devices": N_("split the CPU into N logical devices; with --device all and no GPU, train on all of them"),
    "data_dir": N_("TFDS data folder (default: $TFDS_DATA_DIR, else ~/tensorflow_datasets)"),
    "download": N_("download a missing dataset"),
    "cache": N_("keep decoded images in memory"),
    "threads": N_("TensorFlow CPU threads (default: all cores)"),
    "seed": N_("random seed (default {default})"),
}
AT_LEAST_ONE = ("epochs", "batch_size", "steps_per_execution", "synthetic_examples", "cpu_devices")


def build_parser(defaults: Settings, *, description: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    for item in fields(Settings):
        default = getattr(defaults, item.name)
        flag = "--" + item.name.replace("_", "-")
        help_text = _(HELP[item.name]).format(default=default)
        kind = item.type if isinstance(item.type, str) else item.type.__name__
        if kind == "bool":
            if item.name in ("download", "cache"):
                parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default, help=help_text)
            else:
                parser.add_argument(flag, action="store_true", default=default, help=help_text)
        elif kind.startswith("int"):
            parser.add_argument(flag, type=int, default=default, metavar="N", help=help_text)
        elif kind == "float":
            parser.add_argument(flag, type=float, default=default, metavar="X", help=help_text)
        elif kind == "Path":
            parser.add_argument(flag, type=Path, default=default, metavar="FOLDER", help=help_text)
        else:
            parser.add_argument(flag, default=default, help=help_text)
    return parser


def from_command_line(argv: Sequence[str] | None = None, *, description: str | None = None, **defaults) -> Settings:
    """Settings from the command line, on top of `defaults` (the script's own choices)."""
    base = replace(Settings(), **defaults)
    parser = build_parser(base, description=description)
    namespace = parser.parse_args(argv)
    settings = Settings(**vars(namespace))
    for name in AT_LEAST_ONE:
        if getattr(settings, name) < 1:
            parser.error(_("--{option} must be at least 1").format(option=name.replace("_", "-")))
    return settings
