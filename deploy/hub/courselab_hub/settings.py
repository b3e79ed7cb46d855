"""The hub's settings, read once from HUB_* environment variables (deploy/.env).

Bad input stops the hub before it starts, with one line per problem naming the variable,
what is wrong and the fix, like the lab's own .env check.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from courselab_hub import usernames

VENDORS = ("none", "nvidia", "rocm")
# Docker names (containers, volumes, networks): [a-zA-Z0-9][a-zA-Z0-9_.-]*
DOCKER_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
MEMORY = re.compile(r"^[1-9][0-9]*[KMGT]?$")
# NVIDIA: an index or a UUID as `nvidia-smi -L` prints them; ROCm: a render node name.
NVIDIA_DEVICE = re.compile(r"^([0-9]+|GPU-[0-9a-fA-F-]+|MIG-[0-9a-fA-F-]+)$")
ROCM_DEVICE = re.compile(r"^renderD[0-9]+$")
GFX_OVERRIDE = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+$")
# Room for 4096 students' networks (one /28 each); rarely a school's LAN range.
DEFAULT_STUDENT_SUBNETS = "172.29.0.0/16"


@dataclass(frozen=True)
class HubSettings:
    lab_image: str  # the pinned lab image for CPU students
    gpu_lab_image: str  # the pinned lab image built for the GPU vendor
    vendor: str  # "none", "nvidia" or "rocm"
    gpus: tuple[str, ...]  # device ids in round-robin order
    students_per_gpu: int
    video_gid: int | None
    render_gid: int | None
    hsa_override: str | None
    mem_limit: str
    cpu_limit: float
    pids_limit: int
    idle_timeout: int  # seconds
    start_timeout: int  # seconds
    gate_timeout: int  # seconds
    admin_users: frozenset[str]
    prefix: str  # of every container and volume the hub creates
    network: str  # the hub's own network (its published port)
    hub_host: str  # the hub's name on each student's network, as their servers reach it
    public_url: str  # scheme://host[:port] of the hub; students' servers are <name>.host
    student_subnets: ipaddress.IPv4Network  # carved into one small network per student


@dataclass(frozen=True)
class Problem:
    variable: str
    message: str
    fix: str

    def line(self) -> str:
        return f"{self.variable}: {self.message}. Fix: {self.fix}."


class SettingsError(ValueError):
    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(p.line() for p in problems))
        self.problems = problems


def _int(env, name, default, problems, *, minimum):
    raw = env.get(name, "").strip() or str(default)
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or value < minimum:
        problems.append(Problem(name, f"{raw!r} is not a whole number of at least {minimum}", f"set e.g. {default}"))
        return default
    return value


def _optional_gid(env, name, problems):
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        problems.append(Problem(name, f"{raw!r} is not a numeric group id", f"use `getent group {name[4:-4].lower()}`"))
        return None
    return int(raw)


def _public_url(env, problems) -> str:
    """HUB_PUBLIC_URL: where people open the hub; each student's server is a subdomain of it.
    Plain http only for *.localhost, which browsers resolve to this computer and treat as
    secure (the hub's cookies are Secure and __Host- prefixed)."""
    default = f"http://hub.localhost:{env.get('HUB_PORT', '').strip() or '8000'}"
    raw = env.get("HUB_PUBLIC_URL", "").strip().rstrip("/") or default
    parts = urlsplit(raw)
    host = parts.hostname or ""
    fix = "set the https:// address students open, e.g. https://hub.example.edu (deploy/README.md)"
    if parts.scheme not in ("http", "https") or not host or parts.path or parts.query:
        problems.append(Problem("HUB_PUBLIC_URL", f"{raw!r} is not an address like https://hub.example.edu", fix))
    elif _is_ip(host):
        problems.append(
            Problem("HUB_PUBLIC_URL", f"{raw!r} is an IP address, which has no subdomains for students", fix)
        )
    elif parts.scheme == "http" and not (host == "localhost" or host.endswith(".localhost")):
        problems.append(Problem("HUB_PUBLIC_URL", f"{raw!r} is plain http, which would send passwords in clear", fix))
    return raw


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _student_subnets(env, problems) -> ipaddress.IPv4Network:
    raw = env.get("HUB_STUDENT_SUBNETS", "").strip() or DEFAULT_STUDENT_SUBNETS
    try:
        pool = ipaddress.IPv4Network(raw)
    except ValueError:
        pool = None
    if pool is None or pool.prefixlen > 28:
        problems.append(
            Problem("HUB_STUDENT_SUBNETS", f"{raw!r} is not an IPv4 block of /28 or larger", "e.g. 172.29.0.0/16")
        )
        return ipaddress.IPv4Network(DEFAULT_STUDENT_SUBNETS)
    return pool


def from_env(env: Mapping[str, str]) -> HubSettings:
    """HubSettings from the environment, or SettingsError listing every problem."""
    problems: list[Problem] = []
    lab_image = env.get("HUB_LAB_IMAGE", "").strip()
    if not lab_image:
        problems.append(Problem("HUB_LAB_IMAGE", "is empty", "set it to the lab image the class uses, as in LAB_IMAGE"))
    vendor = env.get("HUB_GPU_VENDOR", "none").strip() or "none"
    if vendor not in VENDORS:
        problems.append(Problem("HUB_GPU_VENDOR", f"{vendor!r} is not one of {', '.join(VENDORS)}", "pick one"))
        vendor = "none"
    gpus = tuple(g.strip() for g in env.get("HUB_GPUS", "").split(",") if g.strip())
    pattern = {"nvidia": NVIDIA_DEVICE, "rocm": ROCM_DEVICE}.get(vendor)
    if vendor != "none" and not gpus:
        example = "0,1" if vendor == "nvidia" else "renderD128,renderD129"
        problems.append(Problem("HUB_GPUS", f"is empty but HUB_GPU_VENDOR={vendor}", f"list the GPUs, e.g. {example}"))
    for gpu in gpus:
        if pattern is None:
            problems.append(Problem("HUB_GPUS", f"lists {gpu!r} but HUB_GPU_VENDOR=none", "set HUB_GPU_VENDOR"))
            break
        if not pattern.match(gpu):
            hint = "an index or GPU-UUID from `nvidia-smi -L`" if vendor == "nvidia" else "a name from `ls /dev/dri`"
            problems.append(Problem("HUB_GPUS", f"{gpu!r} is not a {vendor} device", f"use {hint}"))
    if len(set(gpus)) != len(gpus):
        problems.append(Problem("HUB_GPUS", "lists a GPU twice", "list each GPU once"))
    gpu_lab_image = env.get("HUB_GPU_LAB_IMAGE", "").strip()
    if vendor != "none" and not gpu_lab_image:
        problems.append(Problem("HUB_GPU_LAB_IMAGE", "is empty", f"set it to the class's {vendor} lab image"))
    video_gid = _optional_gid(env, "HUB_VIDEO_GID", problems)
    render_gid = _optional_gid(env, "HUB_RENDER_GID", problems)
    if vendor == "rocm" and render_gid is None:
        problems.append(
            Problem("HUB_RENDER_GID", "is needed for ROCm", "set it to `getent group render | cut -d: -f3`")
        )
    hsa_override = env.get("HUB_HSA_OVERRIDE_GFX_VERSION", "").strip() or None
    if hsa_override and not GFX_OVERRIDE.match(hsa_override):
        problems.append(Problem("HUB_HSA_OVERRIDE_GFX_VERSION", f"{hsa_override!r} is not N.N.N", "e.g. 10.3.0"))
    mem_limit = env.get("HUB_MEM_LIMIT", "").strip() or "2G"
    if not MEMORY.match(mem_limit):
        problems.append(Problem("HUB_MEM_LIMIT", f"{mem_limit!r} is not a size", "e.g. 2G or 1500M"))
    cpu_raw = env.get("HUB_CPU_LIMIT", "").strip() or "1"
    try:
        cpu_limit = float(cpu_raw)
    except ValueError:
        cpu_limit = 0.0
    if not cpu_limit > 0:
        problems.append(Problem("HUB_CPU_LIMIT", f"{cpu_raw!r} is not a positive number of CPUs", "e.g. 1 or 0.5"))
        cpu_limit = 1.0
    admin_users = frozenset(u.strip() for u in env.get("HUB_ADMIN_USERS", "").split(",") if u.strip())
    if not admin_users:
        problems.append(Problem("HUB_ADMIN_USERS", "is empty", "name the instructor accounts, e.g. teacher"))
    for name in sorted(admin_users):
        if not usernames.is_valid(name):
            problems.append(Problem("HUB_ADMIN_USERS", f"{name!r} is not an account name", f"use {usernames.RULE}"))
    prefix = env.get("HUB_PREFIX", "").strip() or "courselab"
    network = env.get("HUB_NETWORK", "").strip() or "courselab-hub"
    for name, value in (("HUB_PREFIX", prefix), ("HUB_NETWORK", network)):
        if not DOCKER_NAME.match(value):
            problems.append(Problem(name, f"{value!r} is not a valid Docker name", "use letters, digits, . _ -"))
    settings = HubSettings(
        lab_image=lab_image,
        gpu_lab_image=gpu_lab_image or lab_image,
        vendor=vendor,
        gpus=gpus,
        students_per_gpu=_int(env, "HUB_STUDENTS_PER_GPU", 4, problems, minimum=1),
        video_gid=video_gid,
        render_gid=render_gid,
        hsa_override=hsa_override,
        mem_limit=mem_limit,
        cpu_limit=cpu_limit,
        pids_limit=_int(env, "HUB_PIDS_LIMIT", 2048, problems, minimum=64),
        idle_timeout=_int(env, "HUB_IDLE_TIMEOUT", 3600, problems, minimum=10),
        start_timeout=_int(env, "HUB_START_TIMEOUT", 420, problems, minimum=30),
        gate_timeout=_int(env, "HUB_GATE_TIMEOUT", 300, problems, minimum=10),
        admin_users=admin_users,
        prefix=prefix,
        network=network,
        hub_host=env.get("HUB_HOST", "").strip() or "hub",
        public_url=_public_url(env, problems),
        student_subnets=_student_subnets(env, problems),
    )
    if settings.start_timeout <= settings.gate_timeout:
        problems.append(
            Problem(
                "HUB_START_TIMEOUT",
                f"{settings.start_timeout} s leaves no time after the GPU check "
                f"(HUB_GATE_TIMEOUT={settings.gate_timeout})",
                "make it at least a minute longer than HUB_GATE_TIMEOUT",
            )
        )
    if problems:
        raise SettingsError(problems)
    return settings
