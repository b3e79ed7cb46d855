"""Where training runs: the CPU, one GPU, or every GPU at once (tf.distribute.MirroredStrategy).

One strategy for every case, so the course script always builds its model inside
`strategy.scope()`: a OneDeviceStrategy for one device, a MirroredStrategy for several. With
MirroredStrategy each device trains on its own --batch-size images per step and the gradients
are summed, so the global batch is --batch-size times the number of devices (TensorFlow's
distributed-training guide: "scale the batch size with the number of replicas").
"""

from __future__ import annotations

import contextlib
import os
import platform
from dataclasses import dataclass
from pathlib import Path

import tensorflow as tf
from labkit.i18n import _

from labtrain.errors import TrainError
from labtrain.settings import Settings


@dataclass(frozen=True)
class Device:
    name: str  # what tf.device() gets: "/CPU:0", "/GPU:0"
    kind: str  # "CPU" or "GPU"
    description: str  # e.g. "NVIDIA GeForce RTX 3060 (compute capability 8.6)"

    @property
    def short(self) -> str:
        return self.name.lstrip("/")


@dataclass(frozen=True)
class Placement:
    """The device(s) a run trains on and the strategy that puts it there."""

    strategy: tf.distribute.Strategy
    devices: tuple[Device, ...]

    @property
    def replicas(self) -> int:
        return self.strategy.num_replicas_in_sync

    @property
    def kind(self) -> str:
        return self.devices[0].kind

    @property
    def name(self) -> str:
        return ",".join(device.short for device in self.devices)

    @property
    def description(self) -> str:
        first = self.devices[0].description
        if len(self.devices) == 1:
            return first
        if self.kind == "CPU":
            return _("the CPU split into {count} logical devices: {model}").format(count=len(self.devices), model=first)
        return f"{len(self.devices)} x {first}"


def cpu_description() -> str:
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    return _("{model}, {cores} logical cores").format(model=model, cores=os.cpu_count())


def split_cpu(count: int) -> None:
    """Make the CPU appear as `count` logical devices (TensorFlow can split it; the way to try
    several-device training without several GPUs). Only possible before TensorFlow starts."""
    if count <= 1:
        return
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)
    except RuntimeError:
        raise TrainError(
            _("--cpu-devices {count}: TensorFlow has already started in this process; restart the kernel first").format(
                count=count
            )
        ) from None


def list_devices() -> list[Device]:
    """The CPU(s), then every GPU TensorFlow can use, with the names the driver reports."""
    found = [
        Device(f"/CPU:{index}", "CPU", cpu_description())
        for index, _cpu in enumerate(tf.config.list_logical_devices("CPU"))
    ]
    for index, gpu in enumerate(tf.config.list_physical_devices("GPU")):
        try:
            details = tf.config.experimental.get_device_details(gpu)
        except (ValueError, RuntimeError):
            details = {}
        description = details.get("device_name") or gpu.name
        if details.get("compute_capability"):
            major, minor = details["compute_capability"]
            description += f" (compute capability {major}.{minor})"
        found.append(Device(f"/GPU:{index}", "GPU", description))
    return found


def pick(requested: str, devices: list[Device]) -> tuple[Device, ...]:
    """Which devices `--device` means here (pure: devices in, choice out)."""
    cpus = [device for device in devices if device.kind == "CPU"]
    gpus = [device for device in devices if device.kind == "GPU"]
    requested = requested.lower()
    if requested == "auto":
        return tuple((gpus or cpus)[:1])
    if requested == "cpu":
        return tuple(cpus[:1])
    if requested == "all":
        return tuple(gpus or cpus)
    if requested.startswith("gpu"):
        number = requested.partition(":")[2] or "0"
        if number.isdigit() and int(number) < len(gpus):
            return (gpus[int(number)],)
        seen = _("{count} GPU(s)").format(count=len(gpus)) if gpus else _("no GPU")
        raise TrainError(
            _(
                "--device {requested}: TensorFlow sees {seen}. "
                "Run 01-check-gpu.ipynb (or `docker compose run --rm lab check`) to see why."
            ).format(requested=requested, seen=seen)
        )
    raise TrainError(_("--device {requested!r}: use auto, cpu, gpu, gpu:N or all").format(requested=requested))


def check_mixed_precision(enabled: bool, devices: tuple[Device, ...]) -> None:
    """Mixed precision only pays on GPUs with fast float16 units; on a CPU it is slower."""
    if enabled and devices[0].kind != "GPU":
        raise TrainError(
            _(
                "--mixed-precision needs a GPU: on the CPU float16 math is emulated and slower. "
                "Leave the flag off on this machine."
            )
        )


def strategy_for(devices: tuple[Device, ...]) -> tf.distribute.Strategy:
    if len(devices) == 1:
        return tf.distribute.OneDeviceStrategy(devices[0].name)
    return tf.distribute.MirroredStrategy(devices=[device.name for device in devices])


def place(settings: Settings) -> Placement:
    if settings.threads:
        tf.config.threading.set_intra_op_parallelism_threads(settings.threads)
        tf.config.threading.set_inter_op_parallelism_threads(settings.threads)
    split_cpu(settings.cpu_devices)
    chosen = pick(settings.device, list_devices())
    check_mixed_precision(settings.mixed_precision, chosen)
    return Placement(strategy_for(chosen), chosen)


def variable_device(model) -> str:
    """Where the model's weights actually live, e.g. '/job:localhost/.../device:GPU:0' (the
    first copy, under MirroredStrategy)."""
    variable = model.trainable_variables[0]
    inner = getattr(variable, "value", variable)
    return str(getattr(inner, "device", "") or getattr(variable, "device", ""))
