"""The doctor's checks: facts in, one frozen result each out. Pure: no files, no processes.

Each result has a name, a Status (ok, warn, fail), what was found, and a one-sentence fix.
`fail` means the lab cannot start as configured; the doctor then exits 1.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from labkit import envcheck
from labkit.i18n import N_, _
from labkit.settings import effective

from labhost import compose, diskneed, platform_checks, rocm_bases
from labhost import wsl as wsl_facts
from labhost.checkbase import FAIL, OK, WARN, CheckResult, Context, Status
from labhost.docker import MIN_COMPOSE, version_tuple
from labhost.envfile import validate
from labhost.facts import DeviceFile, can_open
from labhost.plan import WarningKind

GB = diskneed.GB
MORE = N_("see the README's troubleshooting section")


def docker_cli(ctx: Context) -> CheckResult:
    d = ctx.docker
    if not d.cli_installed:
        return CheckResult(
            "docker",
            FAIL,
            _("the docker command is not installed"),
            _("install Docker Engine: {url}").format(url="https://docs.docker.com/engine/install/"),
        )
    return CheckResult(
        "docker", OK, _("Docker client {version}").format(version=d.client_version or _("(version unknown)"))
    )


def docker_engine(ctx: Context) -> CheckResult | None:
    d = ctx.docker
    if not d.cli_installed:
        return None
    if d.server_version is not None:
        template = (
            _("Docker Engine {version} runs rootless and answers this user")
            if d.rootless
            else _("Docker Engine {version} runs as root (rootful) and answers this user")
        )
        return CheckResult("docker engine", OK, template.format(version=d.server_version))
    if d.problem == "permission":
        docker_group = ctx.host.group("docker")
        user = ctx.host.user
        if docker_group and user.name in docker_group.members and docker_group.gid not in user.groups:
            return CheckResult(
                "docker engine",
                FAIL,
                _("you were added to the docker group, but this login session started before that"),
                _("log out and back in (or reboot), then run the doctor again"),
            )
        return CheckResult(
            "docker engine",
            FAIL,
            _("this user may not use the Docker engine: {problem}").format(problem=d.problem_text),
            _("run `sudo usermod -aG docker $USER`, then log out and back in (or set up rootless Docker)"),
        )
    if d.problem == "not-running":
        return CheckResult(
            "docker engine",
            FAIL,
            _("the Docker engine is not running: {problem}").format(problem=d.problem_text),
            _("start it with `sudo systemctl start docker` (Docker Desktop: start the app)"),
        )
    return CheckResult(
        "docker engine",
        FAIL,
        _("the Docker engine did not answer: {problem}").format(problem=d.problem_text),
        _("run `docker version` to see the full error; {more}").format(more=_(MORE)),
    )


def compose_v2(ctx: Context) -> CheckResult | None:
    d = ctx.docker
    if not d.cli_installed:
        return None
    wanted = ".".join(map(str, MIN_COMPOSE))
    if d.compose_version is None:
        return CheckResult(
            "compose",
            FAIL,
            _("Docker Compose v2 (`docker compose`) is not installed"),
            _("install the docker-compose-plugin package (the old `docker-compose` v1 does not read these files)"),
        )
    if version_tuple(d.compose_version) < MIN_COMPOSE:
        return CheckResult(
            "compose",
            FAIL,
            _("Docker Compose {version} is older than {wanted}").format(version=d.compose_version, wanted=wanted),
            _("update the docker-compose-plugin package to {wanted} or newer").format(wanted=wanted),
        )
    return CheckResult(
        "compose",
        OK,
        _("Docker Compose {version} (needs {wanted}+)").format(version=d.compose_version, wanted=wanted),
    )


def gpu(ctx: Context) -> CheckResult:
    # A data-centre NVIDIA card (an H200, recorded) has no DRM device at all: only /dev/nvidia*.
    cards = ", ".join(f"{c.name} {c.vendor} 0x{c.device_id:04x}" for c in ctx.host.cards) or _(
        "no card in /sys/class/drm"
    )
    plan = ctx.plan
    detail = _("{cards}; {reason}; stack: {flavour}").format(cards=cards, reason=plan.reason, flavour=plan.flavour)
    gpu_but_cpu = plan.flavour == "cpu" and (
        plan.gpu is not None or any(c.vendor in ("AMD", "NVIDIA") for c in ctx.host.cards)
    )
    if gpu_but_cpu and plan.gpu is not None and plan.gpu.display_only:
        return CheckResult("gpu", WARN, detail, _("nothing to do: on this computer the CPU lab is the faster one"))
    if gpu_but_cpu:
        return CheckResult(
            "gpu",
            WARN,
            detail,
            _("the CPU lab works for the whole course, only slower; ask your instructor about a supported GPU"),
        )
    warnings = [w.text for w in plan.warnings if w.kind is WarningKind.SKIPPED_CARD]
    if warnings:
        return CheckResult("gpu", WARN, f"{detail}; {'; '.join(warnings)}", _("see the dmesg lines named above"))
    return CheckResult("gpu", OK, detail)


def rocm_override(ctx: Context) -> CheckResult | None:
    plan = ctx.plan
    if plan.decision is None:
        return None
    decision = plan.decision
    value = decision.override or _("unset")
    detail = _(
        "{target}: HSA_OVERRIDE_GFX_VERSION {value} (image targets from {source}; targets TensorFlow accepts "
        "at run time: {runtime})"
    ).format(target=decision.target, value=value, source=ctx.supported.source, runtime=ctx.supported.runtime_source)
    configured = ctx.values.get("HSA_OVERRIDE_GFX_VERSION")
    if not decision.usable:
        return CheckResult(
            "rocm target",
            FAIL if ctx.flavour == "rocm" else WARN,
            f"{detail}: {decision.reason}",
            _("use the CPU lab: run `scripts/lab setup` (it sets LAB_FLAVOUR=cpu)"),
        )
    if (
        ctx.env is not None
        and ctx.flavour == "rocm"
        and configured != decision.override
        and (configured or decision.override)
    ):
        return CheckResult(
            "rocm target",
            FAIL,
            _("{detail}, but .env has {configured}").format(detail=detail, configured=configured or _("none")),
            _("run `scripts/lab setup` to write the right value (a wrong override can crash the driver)"),
        )
    card_warnings = [w.text for w in plan.warnings if w.kind in (WarningKind.CARD, WarningKind.IMAGE)]
    if card_warnings:
        return CheckResult(
            "rocm target",
            WARN,
            f"{detail}: {'; '.join(card_warnings)}",
            _("save your work often; the CPU lab is the safe fallback for long runs"),
        )
    return CheckResult("rocm target", OK, detail)


def rocm_newer_base(ctx: Context) -> CheckResult | None:
    """Say when the newer ROCm base would run an AMD GPU that the configured image cannot."""
    # A GPU whose target the kernel does not give (no gfx_target_version) has nothing to compare.
    gpus = [ctx.plan.gpu] if ctx.plan.gpu and ctx.plan.gpu.target else []
    if not gpus or ctx.newer_supported is None:
        return None
    base, _source = rocm_bases.configured(ctx.values, "")
    advice = rocm_bases.recommend_newer([g.target for g in gpus], ctx.supported, base, ctx.newer_supported)
    if advice is None:
        return None
    return CheckResult("rocm base", WARN, advice.detail, advice.fix)


def device_files(ctx: Context) -> CheckResult | None:
    host = ctx.host
    if ctx.flavour == "rocm":
        needed = ["/dev/kfd"] + ([f"/dev/dri/renderD{ctx.plan.gpu.render_minor}"] if ctx.plan.gpu else [])
    elif ctx.flavour == "nvidia" and not host.is_wsl:
        needed = ["/dev/nvidiactl", "/dev/nvidia0"]
    else:
        return None
    missing = [path for path in needed if host.device(path) is None]
    if missing:
        fix = (
            _("install and load the amdgpu driver (ROCm needs /dev/kfd)")
            if ctx.flavour == "rocm"
            else _("install the NVIDIA driver and reboot")
        )
        return CheckResult("device files", FAIL, _("missing: {paths}").format(paths=", ".join(missing)), fix)
    parts, closed = [], []
    for path in needed:
        device = host.device(path)
        assert device is not None
        name = host.group_name(device.gid) or "?"
        opens = can_open(device, host.user)
        template = (
            _("{path} gid {gid} ({group}), mode {mode}, you can open it")
            if opens
            else _("{path} gid {gid} ({group}), mode {mode}, not openable by you")
        )
        parts.append(template.format(path=path, gid=device.gid, group=name, mode=f"{device.mode:o}"))
        if not opens:
            closed.append((path, name))
    detail = "; ".join(parts)
    if ctx.flavour == "rocm":
        problem = _rocm_group_problem(ctx, [d for path in needed if (d := host.device(path)) is not None])
        if problem is not None:
            return CheckResult("device files", FAIL, f"{detail}; {problem[0]}", problem[1])
    if closed and ctx.docker.rootless:
        groups = " ".join(sorted({n for _, n in closed}))
        return CheckResult(
            "device files",
            FAIL,
            detail + _("; rootless Docker can only pass on what you can open"),
            _("run `sudo usermod -aG {groups} $USER`, then log out and back in").format(
                groups=groups.replace(" ", ",")
            ),
        )
    if closed:
        return CheckResult(
            "device files",
            WARN,
            detail + _("; the container still gets them through group_add"),
            _("optional: `sudo usermod -aG render,video $USER` so host tools (rocminfo) work too"),
        )
    return CheckResult("device files", OK, detail)


def _rocm_group_problem(ctx: Context, devices: list[DeviceFile]) -> tuple[str, str] | None:
    """(what, fix) when the container could not open a device with the groups .env gives it."""
    root_only = [d.path for d in devices if not d.open_to_everyone and d.group_to_add is None]
    if root_only:
        return (
            _("{paths} opens for root only, and the lab never gets root's group").format(paths=", ".join(root_only)),
            _("install ROCm's udev rule ({rule}) and reboot").format(
                rule='KERNEL=="kfd", GROUP="render", MODE="0660"; '
                'SUBSYSTEM=="drm", KERNEL=="renderD*", GROUP="render", MODE="0660"'
            ),
        )
    if ctx.env is None:
        return None
    # The two slots of compose.rocm.yaml as compose fills them (old names and fallbacks
    # included), and the student's own group, which the lab runs with anyway.
    given = {effective(ctx.values, name) for name in ("LAB_KFD_GID", "LAB_RENDER_GID", "LAB_GID")}
    missing = [d for d in devices if d.group_to_add is not None and str(d.group_to_add) not in given]
    if not missing:
        return None
    names = ", ".join(
        _("{path} needs group {gid} ({group})").format(
            path=d.path, gid=d.group_to_add, group=ctx.host.group_name(d.gid) or "?"
        )
        for d in missing
    )
    return (
        _("{paths}, which .env does not give the lab").format(paths=names),
        _("run `scripts/lab setup` to write the group ids"),
    )


def _nvidia_relevant(ctx: Context) -> bool:
    return ctx.flavour == "nvidia" or ctx.plan.flavour == "nvidia"


def nvidia_driver(ctx: Context) -> CheckResult | None:
    if not _nvidia_relevant(ctx):
        return None
    path = ctx.host.tools.get("nvidia-smi")
    if path is None:
        return CheckResult(
            "nvidia driver",
            FAIL,
            _("nvidia-smi not found: the NVIDIA driver is not installed"),
            _("install your distribution's NVIDIA driver package and reboot"),
        )
    return CheckResult("nvidia driver", OK, _("nvidia-smi at {path}").format(path=path))


def nvidia_toolkit(ctx: Context) -> CheckResult | None:
    if not _nvidia_relevant(ctx):
        return None
    host = ctx.host
    configured, shape_problem = daemon_runtimes(host.daemon_json)
    runtimes = set(ctx.docker.runtimes) | configured
    found = []
    if "nvidia-container-runtime-hook" in host.tools:
        found.append(_("nvidia-container-runtime-hook installed"))
    if "nvidia" in runtimes:
        found.append(_("runtime 'nvidia' in Docker's daemon.json"))
    nvidia_cdi = [spec for spec in host.cdi_specs if "nvidia" in spec]
    if nvidia_cdi:
        found.append(_("CDI spec {specs}").format(specs=", ".join(nvidia_cdi)))
    fix = _("install nvidia-container-toolkit, then {command}").format(
        command="`sudo nvidia-ctk runtime configure --runtime=docker && sudo systemctl restart docker`"
    )
    if host.daemon_json_error or shape_problem:
        return CheckResult(
            "nvidia toolkit",
            FAIL,
            host.daemon_json_error or shape_problem or "",
            _(
                "fix /etc/docker/daemon.json (or let `sudo nvidia-ctk runtime configure --runtime=docker` rewrite it), "
                "then `sudo systemctl restart docker`"
            ),
        )
    # Compose's `driver: nvidia` device request needs the hook; the runtime entry or a CDI spec shows it is wired up.
    if "nvidia-container-runtime-hook" in host.tools and len(found) > 1:
        return CheckResult("nvidia toolkit", OK, "; ".join(found))
    if found:
        return CheckResult("nvidia toolkit", WARN, "; ".join(found) + _(", but not configured for Docker"), fix)
    return CheckResult(
        "nvidia toolkit",
        FAIL,
        _("the NVIDIA Container Toolkit is not installed; Docker will say: {error}").format(
            error='could not select device driver "" with capabilities: [[gpu]]'
        ),
        fix,
    )


def wsl(ctx: Context) -> CheckResult | None:
    host = ctx.host
    if not host.is_wsl:
        return None
    detail, fix = wsl_facts.summary(nvidia_driver="nvidia-smi" in host.tools, compose_rocm_text=ctx.compose_rocm)
    if ctx.plan.flavour == "nvidia":
        return CheckResult("wsl2", OK, detail)
    return CheckResult("wsl2", WARN, _("{detail}. This computer gets the CPU lab").format(detail=detail), fix)


def daemon_runtimes(daemon_json: Mapping | None) -> tuple[set[str], str | None]:
    """Runtime names from daemon.json, and what is wrong with their shape (Docker wants an
    object: {"nvidia": {"path": "nvidia-container-runtime"}}). A hand edit can leave anything."""
    runtimes = (daemon_json or {}).get("runtimes")
    if runtimes is None:
        return set(), None
    if isinstance(runtimes, dict):
        return {str(name) for name in runtimes}, None
    return set(), _(
        '"runtimes" in /etc/docker/daemon.json is a JSON {type}, but Docker reads only an object '
        "({example}) and refuses to start with anything else"
    ).format(type=type(runtimes).__name__, example='{"nvidia": {"path": "nvidia-container-runtime"}}')


def selinux(ctx: Context) -> CheckResult | None:
    if not ctx.host.selinux_enforcing:
        return None
    return CheckResult(
        "selinux",
        WARN,
        _("SELinux is enforcing: containers may not write to ./work without a label"),
        _("run `chcon -Rt container_file_t work` once (or add `:z` to the work bind mount in compose.override.yaml)"),
    )


def not_root(ctx: Context) -> CheckResult | None:
    if ctx.host.user.uid != 0:
        return None
    return CheckResult(
        "user",
        WARN,
        _("the doctor runs as root, so the user and device checks describe root"),
        _("run `scripts/lab doctor` as your own user, without sudo"),
    )


def disk(ctx: Context) -> CheckResult | None:
    if ctx.disk_free is None:
        return None
    need = diskneed.decide(flavour=ctx.flavour, lab_image_present=ctx.image_present, base_present=ctx.base_present)
    where = ctx.images_dir or ctx.docker.root_dir or _("Docker's data folder")
    detail = _("{free} GB free in {where}; {need}").format(
        free=f"{ctx.disk_free / GB:.1f}", where=where, need=need.what
    )
    if ctx.disk_free < need.bytes:
        return CheckResult(
            "disk",
            FAIL,
            detail,
            _("free space (`docker system prune` removes unused images) or ask for an offline copy of the image"),
        )
    if ctx.disk_free < 2 * GB:
        return CheckResult(
            "disk",
            WARN,
            _("{detail}; datasets and caches need room too").format(detail=detail),
            _("free some space (`docker system prune`)"),
        )
    return CheckResult("disk", OK, detail)


def port(ctx: Context) -> CheckResult | None:
    if ctx.port_free is None:
        return None
    if ctx.port_free:
        return CheckResult("port", OK, _("port {port} is free").format(port=ctx.port))
    if f":{ctx.port}->" in ctx.docker.lab_ports:
        return CheckResult("port", OK, _("port {port} is used by the running lab").format(port=ctx.port))
    return CheckResult(
        "port",
        FAIL,
        _("port {port} is used by another program").format(port=ctx.port),
        _("stop that program, or set LAB_PORT=8889 (another free port) in .env"),
    )


def env_file(ctx: Context) -> CheckResult:
    if ctx.env is None:
        return CheckResult(
            "env",
            WARN,
            _("no {path}: the defaults apply (CPU lab, generated token)").format(path=ctx.env_path),
            _("run `scripts/lab setup` to write one for this computer"),
        )
    problems = validate(ctx.env)
    if problems:
        return CheckResult(
            "env",
            FAIL,
            "; ".join(p.text(ctx.env_path) for p in problems),
            problems[0].problem.fix[:1].upper() + problems[0].problem.fix[1:] + ".",
        )
    values = ctx.values
    renamed = envcheck.notices(values)
    if renamed:
        return CheckResult(
            "env",
            WARN,
            _("{path} works, but {notices}").format(path=ctx.env_path, notices="; ".join(renamed)),
            _("run `scripts/lab setup` to rename it"),
        )
    configured = values.get("LAB_FLAVOUR")
    if configured and configured != ctx.plan.flavour:
        return CheckResult(
            "env",
            WARN,
            _("{path} is valid, but says LAB_FLAVOUR={configured} while this computer suits {flavour}").format(
                path=ctx.env_path, configured=configured, flavour=ctx.plan.flavour
            ),
            _("run `scripts/lab setup` to update it (your other settings stay)"),
        )
    compose_file = values.get("COMPOSE_FILE")
    if compose_file and compose_file != compose.compose_file_value(ctx.flavour):
        return CheckResult(
            "env",
            WARN,
            _("COMPOSE_FILE={value} does not match LAB_FLAVOUR={flavour}").format(
                value=compose_file, flavour=ctx.flavour
            ),
            _("run `scripts/lab setup` so plain `docker compose` picks the same files"),
        )
    return CheckResult("env", OK, _("{path} is valid").format(path=ctx.env_path))


def work_dir(ctx: Context) -> CheckResult | None:
    if ctx.work_dir_exists is None:
        return None
    if ctx.work_dir_exists:
        return CheckResult("work folder", OK, _("{path} exists").format(path=ctx.work_dir))
    return CheckResult(
        "work folder",
        FAIL,
        _("{path} does not exist (Docker would create it owned by root)").format(path=ctx.work_dir),
        _("run `mkdir -p {path}`").format(path=ctx.work_dir),
    )


Check = Callable[[Context], "CheckResult | None"]
# The checks for macOS and WSL2 live in their own module, last.
CHECKS: tuple[Check, ...] = (
    docker_cli,
    docker_engine,
    compose_v2,
    gpu,
    rocm_override,
    rocm_newer_base,
    device_files,
    nvidia_driver,
    nvidia_toolkit,
    wsl,
    selinux,
    not_root,
    disk,
    port,
    env_file,
    work_dir,
    *platform_checks.CHECKS,
)


def run_all(ctx: Context) -> list[CheckResult]:
    return [result for check in CHECKS if (result := check(ctx)) is not None]


def blocking(results: list[CheckResult]) -> bool:
    return any(r.status is Status.FAIL for r in results)
