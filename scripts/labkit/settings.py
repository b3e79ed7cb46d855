"""The lab's settings: one table, the only place a .env variable is described.

Each row says the name, the default, the check, one line of documentation, which stacks read
it and who reads it. Everything else is derived from it or checked against it:

- validation, in the container and on the host (labkit.envcheck);
- `.env.example` (env_example(); tests/unit/test_settings.py fails when the file differs:
  regenerate it with `PYTHONPATH=scripts python3 -m labkit.settings env-example > .env.example`);
- docs/settings.md (the same, with `markdown`) and docs/settings.vi.md (`markdown-vi`: the
  same table in Vietnamese, its words from the message catalogue);
- the variable lists in the compose files' headers (compose_header(); same test);
- the compose files themselves: tests/config/test_settings_vs_compose.py asks the real
  `docker compose config --variables` for every variable, its default and whether it is
  required, and fails when compose reads a variable this table lacks or disagrees with it.

To add a setting: add a row here (in the section and order it should appear in .env.example),
translate its doc line (`scripts/i18n update`, then the .po), regenerate the files above, and the
tests tell you what else disagrees.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum

from labkit import i18n
from labkit import values as v
from labkit.i18n import N_
from labkit.interpolation import substitute


class Reader(str, Enum):
    COMPOSE = "compose"  # interpolated in the compose files: ${NAME...}
    BY_NAME = "by name"  # passed into the container by name; unset stays unset
    HOST = "host"  # read by `scripts/lab` only
    INTERNAL = "internal"  # set by the compose files for the container; not a .env setting


WIDTH = 90


def _heading(title: str) -> str:
    return f"# --- {title} ".ljust(WIDTH, "-")


class Section(Enum):
    """The parts of .env.example, in order, with their heading."""

    FIRST = _heading("Values to check first")
    AMD = _heading("AMD GPUs (compose.rocm.yaml)")
    NVIDIA = _heading("NVIDIA GPUs (compose.nvidia.yaml)")
    STACK = _heading("Which stack `scripts/lab` starts (`scripts/lab setup` writes these)")
    PINNED = (
        "# " + "=" * (WIDTH - 2) + "\n"
        "# The values below do not need to be changed. Instructors pin them for the whole class.\n"
        "# " + "=" * (WIDTH - 2)
    )
    NOT_IN_FILE = ""  # INTERNAL rows


ALL = frozenset(v.FLAVOURS)
CPU, NVIDIA, ROCM = frozenset({"cpu"}), frozenset({"nvidia"}), frozenset({"rocm"})
COMPOSE, BY_NAME, HOST = frozenset({Reader.COMPOSE}), frozenset({Reader.BY_NAME}), frozenset({Reader.HOST})


@dataclass(frozen=True)
class Setting:
    name: str
    # What compose uses when .env leaves it out or empty: the default of its ${NAME:-default}
    # exactly as the compose file writes it (it may name another variable). None: not set.
    default: str | None
    check: v.Check
    # One line, marked N_(): the compose headers, docs/settings.md and .env.example use it as is,
    # docs/settings.vi.md its translation.
    doc: str
    flavours: frozenset[str]
    readers: frozenset[Reader]
    section: Section
    # .env.example: the comment above the line (the doc line when empty; a row with
    # note=None continues the group of the row before it), whether the line is active,
    # and the value it shows when that is not the default.
    note: tuple[str, ...] | None = ()
    active: bool = False
    example: str | None = None
    # When empty is itself the mistake (not "use the default"): what is wrong, and the fix,
    # marked with N_() and translated where the problem is made (labkit.envcheck).
    when_empty: tuple[str, str] | None = None
    # Older names still read (with a one-line notice to rename them).
    old_names: tuple[str, ...] = ()
    # How docs show the default when the raw default would confuse ("(generated)").
    shown_default: str = ""
    # .env.example: comment lines after the line (an alternative value to switch to, say).
    after: tuple[str, ...] = ()

    @property
    def default_text(self) -> str:
        return self.default_in(str)

    def default_in(self, say: Callable[[str], str]) -> str:
        """The default as docs show it, its words (not its value) in a language (`say`)."""
        if self.shown_default:
            return say(self.shown_default)
        if self.default is None:
            return say(N_("(unset)"))
        return self.default or say(N_("(empty)"))


SETTINGS: tuple[Setting, ...] = (
    # --- values to check first
    Setting(
        "LAB_UID",
        "1000",
        v.user_id,
        N_("your user id on this computer (`id -u`)"),
        ALL,
        COMPOSE,
        Section.FIRST,
        note=(
            "Your user and group on this computer (`id -u` and `id -g`). Files you save in the lab",
            "belong to this user. Most single-user Linux machines use 1000.",
        ),
        active=True,
    ),
    Setting(
        "LAB_GID",
        "1000",
        v.group_id,
        N_("your group id on this computer (`id -g`)"),
        ALL,
        COMPOSE,
        Section.FIRST,
        note=None,
        active=True,
    ),
    Setting(
        "LAB_WORK_DIR",
        "./work",
        v.host_folder,
        N_("your notebooks and runs, a folder on this computer"),
        ALL,
        COMPOSE | HOST,
        Section.FIRST,
        note=(
            "The folder on this computer where your notebooks and results live. Relative paths are",
            "relative to this folder. It must exist (it is never created as root for you).",
        ),
        active=True,
    ),
    Setting(
        "LAB_PORT",
        "8888",
        v.port,
        N_("the port JupyterLab uses on this computer"),
        ALL,
        COMPOSE | HOST,
        Section.FIRST,
        note=("The port JupyterLab uses on this computer: http://127.0.0.1:LAB_PORT",),
        active=True,
    ),
    Setting(
        "JUPYTER_TOKEN",
        "",
        v.token,
        N_("login token, 16+ letters, digits, '-' or '_'"),
        ALL,
        COMPOSE | HOST,
        Section.FIRST,
        note=(
            "Login token (16+ letters, digits, '-' or '_'). Leave it empty and the lab generates one",
            "and keeps it, so your bookmark keeps working.",
        ),
        active=True,
        shown_default=N_("(generated)"),
    ),
    Setting(
        "LAB_LANG",
        "",
        v.language,
        N_("language of messages and JupyterLab: en or vi (tiếng Việt)"),
        ALL,
        COMPOSE | HOST,
        Section.FIRST,
        note=(
            "Language of every message of the lab and of JupyterLab: en or vi (tiếng Việt). Empty: your",
            "computer's language setting (LANG=vi_VN.UTF-8 means Vietnamese), else English.",
        ),
        active=True,
        shown_default=N_("(locale, else en)"),
    ),
    # --- AMD
    Setting(
        "LAB_RENDER_GID",
        "${LAB_GID:-1000}",
        v.device_group("/dev/dri/renderD128"),
        N_("the render node's group id: `stat -c %g /dev/dri/renderD128`"),
        ROCM,
        COMPOSE,
        Section.AMD,
        note=(
            "Numeric group ids that let the lab open the GPU's render node and /dev/kfd. Group names",
            "do not work: the image has no such groups, and their numbers differ between computers.",
            "Leave a line out when its device needs no group (mode 666), and never use 0 (root's group):",
            "  LAB_RENDER_GID: stat -c %g /dev/dri/renderD128",
            "  LAB_KFD_GID:    stat -c %g /dev/kfd, only when that differs from LAB_RENDER_GID",
            "                  (on current systems both belong to the render group: leave it out)",
            "`python3 scripts/lab setup` fills in what this computer needs.",
        ),
        example="110",
        shown_default=N_("(none)"),
    ),
    Setting(
        "LAB_KFD_GID",
        "${LAB_VIDEO_GID:-65534}",
        v.device_group("/dev/kfd"),
        N_("/dev/kfd's group id, if not the render one: `stat -c %g /dev/kfd`"),
        ROCM,
        COMPOSE,
        Section.AMD,
        note=None,
        example="44",
        old_names=("LAB_VIDEO_GID",),
        shown_default=N_("(none)"),
    ),
    Setting(
        "HSA_OVERRIDE_GFX_VERSION",
        None,
        v.gfx_override,
        N_("only for cards the image does not support, e.g. 10.3.0"),
        ROCM,
        BY_NAME,
        Section.AMD,
        note=(
            "Only for cards the image does not support natively (e.g. RX 6700 XT, gfx1031 -> 10.3.0).",
            "Never leave it empty: an empty value makes ROCm find no GPU at all. Never set it for a",
            "card the image supports, and never to another major version than your card's.",
        ),
        example="10.3.0",
        when_empty=(
            N_("is set but empty, and an empty override makes ROCm find no GPU at all"),
            N_("delete the line, or set the value the lab's doctor prints for your card"),
        ),
    ),
    Setting(
        "ROCR_VISIBLE_DEVICES",
        None,
        v.visible_devices,
        N_("the one AMD GPU to use on iGPU + dGPU computers"),
        ROCM,
        BY_NAME,
        Section.AMD,
        note=(
            "On computers with an integrated AND a discrete AMD GPU: the index of the one to use.",
            "Set one of the two, never both.",
        ),
        example="0",
    ),
    Setting(
        "HIP_VISIBLE_DEVICES",
        None,
        v.visible_devices,
        N_("the same, for HIP only (set one of the two)"),
        ROCM,
        BY_NAME,
        Section.AMD,
        note=None,
        example="0",
    ),
    # --- NVIDIA
    Setting(
        "LAB_NVIDIA_GPU_COUNT",
        "all",
        v.gpu_count,
        N_("how many GPUs: all or a number (1, 2, ...)"),
        NVIDIA,
        COMPOSE,
        Section.NVIDIA,
        note=('How many GPUs the lab may use: "all" or a number (0 leaves the count out).',),
    ),
    # --- which stack
    Setting(
        "LAB_FLAVOUR",
        None,
        v.flavour,
        N_("the stack `scripts/lab` starts: cpu, nvidia or rocm"),
        ALL,
        HOST,
        Section.STACK,
        note=(
            "The stack `scripts/lab up` starts (cpu, nvidia or rocm), and the compose files plain",
            "`docker compose` then reads. Unset: `scripts/lab` picks the stack for the GPU it finds.",
        ),
        example="rocm",
        shown_default=N_("(detected)"),
    ),
    Setting(
        "COMPOSE_FILE",
        None,
        v.compose_files,
        N_("the compose files plain `docker compose` reads"),
        ALL,
        HOST,
        Section.STACK,
        note=None,
        example="compose.yaml:compose.rocm.yaml",
        shown_default="compose.yaml",
    ),
    # --- pinned by instructors
    Setting(
        "LAB_IMAGE",
        "courselab.invalid/lab:2.20.0-cpu",
        v.image,
        N_("image of the CPU lab (built here by default)"),
        CPU,
        COMPOSE,
        Section.PINNED,
        note=(
            "The image the class uses, and the vendor base it is built from, per stack. By default the",
            "image is built on this computer and never pulled (a .invalid name no registry answers for).",
            "Instructors: `scripts/lab release` prints the lines to hand out: a published image pinned by",
            'digest (name@sha256:...) with its pull policy "missing", or an offline hand-out\'s name.',
            "Bases: pin them by digest where you know it (docs/instructors.md: how to read it).",
        ),
    ),
    Setting(
        "LAB_PULL_POLICY",
        "never",
        v.pull_policy,
        N_("never: build here; missing: pull a name@sha256:... pin"),
        CPU,
        COMPOSE,
        Section.PINNED,
        note=None,
    ),
    Setting(
        "LAB_BASE_IMAGE",
        "tensorflow/tensorflow:2.20.0",
        v.image,
        N_("vendor base the CPU image is built on"),
        CPU,
        COMPOSE,
        Section.PINNED,
        note=(
            "On an arm64 Docker (Apple silicon Macs) the CPU image needs an arm64 base: `scripts/lab setup`",
            "sets this to courselab.invalid/tensorflow:2.20.0-arm64 and prints the command that builds it.",
        ),
    ),
    Setting(
        "LAB_NVIDIA_IMAGE",
        "courselab.invalid/lab:2.20.0-cuda",
        v.image,
        N_("image of the NVIDIA lab (built here by default)"),
        NVIDIA,
        COMPOSE,
        Section.PINNED,
        note=None,
    ),
    Setting(
        "LAB_NVIDIA_PULL_POLICY",
        "never",
        v.pull_policy,
        N_("never: build here; missing: pull a name@sha256:... pin"),
        NVIDIA,
        COMPOSE,
        Section.PINNED,
        note=None,
    ),
    Setting(
        "LAB_NVIDIA_BASE_IMAGE",
        "tensorflow/tensorflow:2.20.0-gpu",
        v.image,
        N_("vendor base the NVIDIA image is built on"),
        NVIDIA,
        COMPOSE,
        Section.PINNED,
        note=None,
    ),
    Setting(
        "LAB_ROCM_IMAGE",
        "courselab.invalid/lab:2.18-rocm6.4.1",
        v.image,
        N_("image of the ROCm lab (built here by default)"),
        ROCM,
        COMPOSE,
        Section.PINNED,
        note=None,
    ),
    Setting(
        "LAB_ROCM_PULL_POLICY",
        "never",
        v.pull_policy,
        N_("never: build here; missing: pull a name@sha256:... pin"),
        ROCM,
        COMPOSE,
        Section.PINNED,
        note=None,
    ),
    Setting(
        "LAB_ROCM_BASE_IMAGE",
        "rocm/tensorflow:rocm6.4.1-py3.12-tf2.18-dev",
        v.image,
        N_("vendor base the ROCm image is built on"),
        ROCM,
        COMPOSE,
        Section.PINNED,
        note=None,
        after=(
            "The newer ROCm base, for cards the pinned one has no kernels for (gfx1150/gfx1151 laptops;",
            "`scripts/lab doctor` says when; docs/rocm-bases.md). Change both lines together:",
            "LAB_ROCM_IMAGE=courselab.invalid/lab:2.20-rocm7.2.4",
            "LAB_ROCM_BASE_IMAGE=rocm/tensorflow:rocm7.2.4-py3.12-tf2.20-dev",
        ),
    ),
    Setting(
        "TF_FORCE_GPU_ALLOW_GROWTH",
        "true",
        v.exact_bool,
        N_("take GPU memory as needed, not all at start"),
        ALL,
        COMPOSE,
        Section.PINNED,
        note=(
            "TensorFlow takes GPU memory as it needs it instead of all of it at start, so the",
            "desktop on the same GPU stays usable. Exactly true or false.",
        ),
        active=True,
    ),
    Setting(
        "TF_CPP_MIN_LOG_LEVEL",
        "1",
        v.tf_log_level,
        N_("TensorFlow's log filter: 0 all, 1 no info, 2 no warnings"),
        ALL,
        COMPOSE,
        Section.PINNED,
        note=("TensorFlow's own log lines: 0 shows everything, 1 hides info lines, 2 also warnings.",),
    ),
    Setting(
        "LAB_REQUIRE_GPU",
        "false",
        v.exact_bool,
        N_("refuse to start without a GPU (GPU stacks always do)"),
        CPU,
        COMPOSE,
        Section.PINNED,
        note=("Refuse to start when no GPU works (the GPU overlays always require one).",),
        active=True,
    ),
    Setting(
        "LAB_GATE_TIMEOUT",
        "120",
        v.positive_seconds,
        N_("seconds the GPU check may take"),
        ALL,
        COMPOSE,
        Section.PINNED,
        note=("Seconds the GPU check may take before the lab reports a hung driver.",),
        active=True,
    ),
    Setting(
        "LAB_BIND_ADDRESS",
        "127.0.0.1",
        v.ip_address,
        N_("host address JupyterLab listens on"),
        ALL,
        COMPOSE | HOST,
        Section.PINNED,
        note=(
            "Host address JupyterLab listens on. 127.0.0.1: only this computer can connect.",
            "Anything else lets other machines on your network reach the login page; see the README.",
        ),
        active=True,
    ),
    Setting(
        "LAB_SHM_SIZE",
        "1gb",
        v.shm_size,
        N_("shared memory for data loaders (8g, 512m, 1GiB, ...)"),
        ALL,
        COMPOSE,
        Section.PINNED,
        note=(
            "Shared memory for the container (data loaders use it). Sizes as Docker writes them:",
            "1gb, 512m, 2GiB.",
        ),
        active=True,
    ),
    Setting(
        "LAB_MEMORY_LIMIT",
        "0",
        v.memory_size,
        N_("memory limit, e.g. 8g (0: none)"),
        ALL,
        COMPOSE | HOST,
        Section.PINNED,
        note=(
            "Limits for the lab container. 0 means no limit. With a memory limit (e.g. 8g on a 16 GB",
            "machine) a notebook that takes too much is stopped instead of freezing your computer.",
        ),
        active=True,
        shown_default=N_("0 (none)"),
    ),
    Setting(
        "LAB_CPUS",
        "0",
        v.cpus,
        N_("CPU limit, e.g. 4 or 1.5 (0: all)"),
        ALL,
        COMPOSE,
        Section.PINNED,
        note=None,
        active=True,
        shown_default=N_("0 (all)"),
    ),
    Setting(
        "LAB_PIDS_LIMIT",
        "2048",
        v.pids,
        N_("process limit (0: none)"),
        ALL,
        COMPOSE,
        Section.PINNED,
        note=("Processes the lab may run (a runaway loop cannot exhaust the host).",),
        active=True,
    ),
    # --- the host's locale, from the shell (never .env): the lab's language when LAB_LANG is empty
    Setting(
        "LC_ALL",
        "${LC_MESSAGES:-${LANG:-}}",
        v.locale_name,
        N_("the shell's locale; its language is the lab's when LAB_LANG is empty"),
        ALL,
        COMPOSE,
        Section.NOT_IN_FILE,
        shown_default=N_("(shell)"),
    ),
    Setting(
        "LC_MESSAGES",
        "${LANG:-}",
        v.locale_name,
        N_("the same, for messages only (when LC_ALL is unset)"),
        ALL,
        COMPOSE,
        Section.NOT_IN_FILE,
        shown_default=N_("(shell)"),
    ),
    Setting(
        "LANG",
        "",
        v.locale_name,
        N_("the same, the shell's default locale (when both above are unset)"),
        ALL,
        COMPOSE,
        Section.NOT_IN_FILE,
        shown_default=N_("(shell)"),
    ),
    # --- set by the compose files for the container, checked there too
    Setting(
        "LAB_HOST_PORT",
        None,
        v.port,
        "LAB_PORT as the container sees it (for the printed URL)",
        ALL,
        frozenset({Reader.INTERNAL}),
        Section.NOT_IN_FILE,
    ),
    Setting(
        "LAB_HOST_ADDRESS",
        None,
        v.ip_address,
        "LAB_BIND_ADDRESS as the container sees it (for the printed URL)",
        ALL,
        frozenset({Reader.INTERNAL}),
        Section.NOT_IN_FILE,
    ),
)

BY_NAME_OF: dict[str, Setting] = {s.name: s for s in SETTINGS}
# Old name -> current name.
RENAMED: dict[str, str] = {old: s.name for s in SETTINGS for old in s.old_names}


def lookup(values: Mapping[str, str]):
    """A lookup for compose's interpolation: empty counts as set (compose's `:-` decides)."""
    return lambda name: values.get(name)


def effective(values: Mapping[str, str], name: str) -> str | None:
    """The value compose uses for `name` given .env's `values`: the value, else (empty or
    unset) an old name's value, else the default, resolved like compose resolves it."""
    setting = BY_NAME_OF[name]
    if values.get(name):
        return values[name]
    for old in setting.old_names:
        if values.get(old):
            return values[old]
    if setting.default is None:
        return None
    return substitute(setting.default, lookup(values))


# --- what is derived from the table ---------------------------------------------------------

ENV_EXAMPLE_HEADER = (
    "# Course lab settings. Copy this file to .env and change what you need:",
    "#   cp .env.example .env",
    "# `python3 scripts/lab setup` can fill it in for you from what it finds on this computer.",
    "# Every line is optional: without a .env the CPU lab starts with the defaults shown here.",
    "# Generated from scripts/labkit/settings.py (one table for the whole lab); docs/settings.md",
    "# lists every variable with the stacks that read it.",
)


def env_example() -> str:
    lines = list(ENV_EXAMPLE_HEADER)
    section = None
    for setting in SETTINGS:
        if setting.section is Section.NOT_IN_FILE:
            continue
        if setting.section is not section:
            section = setting.section
            lines += ["", section.value]
        if setting.note is not None:
            lines += [""] + [
                f"# {text}".rstrip() for text in (setting.note or (setting.doc[:1].upper() + setting.doc[1:] + ".",))
            ]
        value = setting.example if setting.example is not None else (setting.default or "")
        lines.append(f"{'' if setting.active else '# '}{setting.name}={value}")
        lines += [f"# {text}" for text in setting.after]
    return "\n".join(lines) + "\n"


def stacks_text(setting: Setting, say: Callable[[str], str] = str) -> str:
    return say(N_("all")) if setting.flavours == ALL else ", ".join(sorted(setting.flavours))


# docs/settings.md, and docs/settings.vi.md through the catalogue.
MARKDOWN_TITLE = N_("Settings")
MARKDOWN_INTRO = (
    N_(
        "Every variable the lab reads from `.env`, from one table in\n"
        "[`scripts/labkit/settings.py`](../scripts/labkit/settings.py) (this page, `.env.example` and the\n"
        "compose files' variable lists are generated from it or checked against it by the tests).\n"
        "The lab checks each value before anything starts; a bad one stops the start with one line\n"
        "naming the variable and the fix. Sizes, CPU counts and image names accept every form Docker\n"
        "accepts (`8g`, `8gb`, `8GiB`, `1.5g`; `1.5` CPUs; `name:tag@sha256:...`)."
    ),
    N_(
        "Stacks: `cpu` is `compose.yaml`, `nvidia` adds `compose.nvidia.yaml`, `rocm` adds\n"
        "`compose.rocm.yaml`. Read by: `compose` (the compose files use it), `by name` (passed into\n"
        "the container only when set), `host` (`scripts/lab` only)."
    ),
)
MARKDOWN_COLUMNS = (N_("Variable"), N_("Default"), N_("Stacks"), N_("Read by"), N_("What it is"))
READER_WORDS = {Reader.COMPOSE: N_("compose"), Reader.BY_NAME: N_("by name"), Reader.HOST: N_("host")}


def markdown(lang: str = i18n.DEFAULT_LANGUAGE) -> str:
    say = i18n.translations(lang).gettext
    lines = [f"# {say(MARKDOWN_TITLE)}", ""]
    for paragraph in MARKDOWN_INTRO:
        lines += [*say(paragraph).splitlines(), ""]
    lines += [
        "| " + " | ".join(say(column) for column in MARKDOWN_COLUMNS) + " |",
        "|---|---|---|---|---|",
    ]
    for s in SETTINGS:
        if Reader.INTERNAL in s.readers:
            continue
        readers = ", ".join(say(READER_WORDS[r]) for r in Reader if r in s.readers)
        doc = say(s.doc).replace("|", "\\|")
        lines.append(f"| `{s.name}` | `{s.default_in(say)}` | {stacks_text(s, say)} | {readers} | {doc} |")
    if RENAMED:
        lines += ["", say(N_("Old names, still read (the lab prints a one-line notice to rename them):")), ""]
        lines += ["- " + say(N_("`{old}`: now `{new}`")).format(old=old, new=new) for old, new in RENAMED.items()]
    return "\n".join(lines) + "\n"


COMPOSE_FILE_OF = {ALL: "compose.yaml", CPU: "compose.yaml", NVIDIA: "compose.nvidia.yaml", ROCM: "compose.rocm.yaml"}
COMPOSE_HEADER_TITLE = "# Variables (set them in .env; docs/settings.md has them all):"


def compose_header(file: str) -> list[str]:
    """The variable list at the top of `file`: the settings it reads, default, one line each."""
    rows = [s for s in SETTINGS if COMPOSE_FILE_OF.get(s.flavours) == file and s.readers & (COMPOSE | BY_NAME)]
    width = max(len(s.name) for s in rows) + 2
    default_width = max(len(s.default_text) for s in rows) + 2
    lines = [COMPOSE_HEADER_TITLE]
    for s in rows:
        lines.append(f"#   {s.name.ljust(width)}{s.default_text.ljust(default_width)}{s.doc}".rstrip())
    return lines


OUTPUTS = {"env-example": env_example, "markdown": markdown, "markdown-vi": lambda: markdown("vi")}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in OUTPUTS:
        sys.exit(f"usage: PYTHONPATH=scripts python3 -m labkit.settings {{{'|'.join(OUTPUTS)}}}")
    sys.stdout.write(OUTPUTS[sys.argv[1]]())
