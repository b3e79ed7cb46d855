"""ROCm's view of the GPUs, read from KFD's topology in sysfs.

Format (the kernel's drivers/gpu/drm/amd/amdkfd/kfd_topology.c, node_show()): one folder per
node, /sys/class/kfd/kfd/topology/nodes/N, N counting from 0; its `properties` file holds one
"name value" line per property, values in decimal (sysfs_show_32bit_prop / _64bit_prop).
Among them:

- simd_count: the kernel prints it only for a node with a GPU (`dev->gpu ? simd_count : 0`),
- cpu_cores_count: CPU cores of the node (an old Kaveri/Carrizo APU node has both),
- gfx_target_version: major*10000 + minor*100 + stepping (0 on CPU nodes),
- simd_per_cu, location_id (PCI bus << 8 | devfn), domain, drm_render_minor, unique_id.

What counts as a GPU is what ROCm's runtime counts: ROCR-Runtime's BuildTopology
(src/core/runtime/amd_topology.cpp) walks nodes 0..N-1 in numeric order and makes a GPU
agent of every node with NumFComputeCores (simd_count) != 0, numbering them 0, 1, 2 ... as
it goes; ROCR_VISIBLE_DEVICES then picks among those numbers. A GPU whose
gfx_target_version is unknown (0) is still an agent and still takes an index.

Reading a GPU node's properties fails with EPERM when the device cgroup does not allow that
GPU (kfd_devcgroup_check_permission): such a node is skipped, as libhsakmt skips it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from labkit import gfx

TOPOLOGY = Path("sys/class/kfd/kfd/topology/nodes")
STRTOL = re.compile(r"^(?P<sign>[+-]?)(?P<digits>0X[0-9A-F]+|0[0-7]*|[1-9][0-9]*)$")


@dataclass(frozen=True)
class KfdNode:
    """One KFD topology node: a CPU, a GPU, or (old APUs) both."""

    node: int
    properties: Mapping[str, int] = field(default_factory=dict)
    name: str = ""
    # Size of the node's first memory bank (VRAM on a discrete card, the carve-out on an APU).
    mem_bytes: int | None = None

    def prop(self, key: str) -> int:
        return self.properties.get(key, 0)

    @property
    def is_gpu(self) -> bool:
        """A GPU agent, as ROCR counts them: the node has SIMDs."""
        return self.prop("simd_count") > 0

    @property
    def target(self) -> gfx.GfxTarget | None:
        return gfx.from_kfd_version(self.prop("gfx_target_version"))

    @property
    def compute_units(self) -> int | None:
        """Compute units: SIMDs / SIMDs per CU (what rocminfo prints as 'Compute Unit')."""
        per_cu = self.prop("simd_per_cu")
        return self.prop("simd_count") // per_cu if per_cu > 0 and self.is_gpu else None

    @property
    def pci_slot(self) -> str | None:
        """The GPU's PCI address as sysfs spells it (0000:0a:00.0), from domain and location_id."""
        location = self.prop("location_id")
        if not self.is_gpu or location <= 0:
            return None
        bus, devfn = location >> 8, location & 0xFF
        return f"{self.prop('domain'):04x}:{bus:02x}:{devfn >> 3:02x}.{devfn & 0x7:x}"

    @property
    def uuid(self) -> str:
        """The UUID ROCR matches ROCR_VISIBLE_DEVICES against ("GPU-" + 16 hex digits of
        unique_id, upper case); cards without one never match (amd_filter_device.cpp)."""
        unique = self.prop("unique_id")
        return f"GPU-{unique:016X}" if unique > 0 else "Invalid-UUID"


@dataclass(frozen=True)
class Topology:
    present: bool  # /sys/class/kfd exists: the amdgpu driver's compute half (KFD) is loaded
    nodes: tuple[KfdNode, ...] = ()

    @property
    def gpus(self) -> list[KfdNode]:
        return gpu_agents(self.nodes)


def parse_properties(text: str) -> dict[str, int]:
    """KFD's `properties` format: 'name value' per line, values decimal. Anything else
    (a truncated or garbled line) is skipped, never an error."""
    values = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isascii() and parts[1].lstrip("-").isdigit():
            values[parts[0]] = int(parts[1])
    return values


def _read(path: Path) -> str | None:
    try:
        return path.read_text(errors="replace")
    except (OSError, ValueError):
        return None


def _node_number(path: Path) -> int | None:
    name = path.name
    return int(name) if name.isascii() and name.isdigit() else None


def read_topology(root: Path = Path("/")) -> Topology:
    """Every readable node under `root`, in numeric order (node 10 after node 2)."""
    nodes_dir = Path(root) / TOPOLOGY
    try:
        entries = list(nodes_dir.iterdir())
    except (NotADirectoryError, FileNotFoundError):
        return Topology(False)
    except OSError:
        return Topology(True)
    numbered = sorted((n, p) for p in entries if (n := _node_number(p)) is not None)
    nodes = []
    for number, folder in numbered:
        text = _read(folder / "properties")
        if text is None:
            continue
        bank = _read(folder / "mem_banks" / "0" / "properties")
        mem = parse_properties(bank).get("size_in_bytes") if bank else None
        name = (_read(folder / "name") or "").strip()
        nodes.append(KfdNode(number, parse_properties(text), name, mem))
    return Topology(True, tuple(nodes))


def gpu_agents(nodes: tuple[KfdNode, ...] | list[KfdNode]) -> list[KfdNode]:
    """The GPU agents in ROCR's enumeration order: its device index is the list index."""
    return [node for node in sorted(nodes, key=lambda n: n.node) if node.is_gpu]


def _strtol(token: str) -> int | None:
    """C's strtol(token, &end, 0) over the whole token: decimal, 0x hex or 0-led octal."""
    match = STRTOL.match(token)
    if match is None:
        return None
    sign, digits = (-1 if match["sign"] == "-" else 1), match["digits"]
    if digits.startswith("0X"):
        return sign * int(digits[2:], 16)
    return sign * int(digits, 8 if digits.startswith("0") else 10)


def _rocr_rank(token: str, agents: list[KfdNode]) -> int | None:
    """One ROCR_VISIBLE_DEVICES entry as an agent index, or None when it ends the list."""
    if token.startswith("G"):
        # A UUID, or a unique prefix of one, 5 to 20 characters long.
        if not 5 <= len(token) <= 20:
            return None
        matches = [i for i, agent in enumerate(agents) if agent.uuid.startswith(token)]
        return matches[0] if len(matches) == 1 else None
    return _strtol(token)


def rocr_visible(agents: list[KfdNode], value: str | None) -> list[KfdNode]:
    """The agents ROCR_VISIBLE_DEVICES leaves, in the order it lists them.

    ROCR-Runtime's RvdFilter (src/core/runtime/amd_filter_device.cpp): unset means all; set
    but empty means none; entries are split at ',', trimmed and upper-cased; an index or a
    UUID prefix each; the first entry that is malformed, out of range, ambiguous or repeated
    ends the list; at most as many entries as there are GPUs are read.
    """
    if value is None:
        return list(agents)
    if value == "":
        return []
    chosen: list[int] = []
    for raw in value.split(",")[: len(agents)]:
        token = raw.strip().upper()
        rank = _rocr_rank(token, agents) if token else None
        if rank is None or not 0 <= rank < len(agents) or rank in chosen:
            break
        chosen.append(rank)
    return [agents[i] for i in chosen]


def hip_visible(devices: list[KfdNode], value: str | None) -> list[KfdNode]:
    """HIP_VISIBLE_DEVICES: indices over the devices ROCR left (HIP numbers what ROCR
    surfaces); like CUDA_VISIBLE_DEVICES, the first invalid index ends the list."""
    if value is None:
        return list(devices)
    chosen: list[int] = []
    for raw in value.split(","):
        token = raw.strip()
        if not (token.isascii() and token.isdigit()) or int(token) >= len(devices) or int(token) in chosen:
            break
        chosen.append(int(token))
    return [devices[i] for i in chosen]


def visible_gpus(nodes: tuple[KfdNode, ...] | list[KfdNode], environ: Mapping[str, str]) -> list[KfdNode]:
    """The GPUs a process started with `environ` uses, in the order it numbers them."""
    after_rocr = rocr_visible(gpu_agents(nodes), environ.get("ROCR_VISIBLE_DEVICES"))
    return hip_visible(after_rocr, environ.get("HIP_VISIBLE_DEVICES"))
