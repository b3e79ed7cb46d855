"""Make one flavour's lock, inside that flavour's base image (run by `scripts/lab lock`).

Inside the base, so that what the lock is resolved against is the base's own packages: they
are frozen into a constraints file, and uv (a maintained resolver, pinned with hashes in
lock-tools.txt) resolves requirements-lab.txt on top of them. The lock can therefore never
ask for another TensorFlow, numpy or protobuf than the base has.

    python3 relock.py --flavour cpu --image-dir /lab-image --out /out --base-ref NAME[@DIGEST]

Writes OUT/<flavour>.txt (the lock) and OUT/<flavour>.base.txt (the base's packages it was
resolved against). Flavour-specific inputs: an optional image/lock-inputs/<flavour>.py, run
here with the base's python, prints requirement lines added to the inputs (the NVIDIA
flavour's CUDA wheels come from the installed TensorFlow's own metadata that way).
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import baseline  # noqa: E402
import lockfile  # noqa: E402

# uv trusts its own certificate list unless told otherwise; school networks that intercept
# TLS add their CA to the system bundle, which is what pip in the base already uses.
SYSTEM_CA_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")


def base_tensorflow() -> str:
    """The distribution that provides `import tensorflow` in the base, with its version."""
    providers = metadata.packages_distributions().get("tensorflow", [])
    for name in providers:
        return f"{lockfile.canonical(name)}=={metadata.version(name)}"
    return "none"


def install_uv(image_dir: Path, target: Path) -> Path:
    # --target: a throwaway folder, never the base's own site-packages (and allowed on PEP 668
    # bases, where pip refuses to touch the system Python).
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-cache-dir", "--disable-pip-version-check"]
        + ["--root-user-action=ignore"]
        + ["--require-hashes", "--no-deps", "--only-binary", ":all:", "--target", str(target)]
        + ["--requirement", str(image_dir / "lock-tools.txt")],
        check=True,
    )
    return target / "bin" / "uv"


def uv_environment() -> dict[str, str]:
    env = dict(os.environ)
    for bundle in SYSTEM_CA_BUNDLES:
        if Path(bundle).is_file() and "SSL_CERT_FILE" not in env:
            env["SSL_CERT_FILE"] = bundle
    env.setdefault("UV_CACHE_DIR", "/tmp/lab-lock-uv-cache")
    return env


def header(fields: dict[str, str]) -> str:
    lines = [
        f"# The {fields['flavour']} lab layer's lock. Generated inside its base image by",
        f"# `scripts/lab lock --flavour {fields['flavour']}`; do not edit by hand.",
    ]
    lines += [f"{lockfile.HEADER}{key}: {value}" for key, value in fields.items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flavour", required=True)
    parser.add_argument("--image-dir", type=Path, default=HERE)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--base-ref", required=True, help="the base image as the lock should name it")
    parser.add_argument("--exclude-newer", help="resolve as of this UTC time (ISO 8601), to reproduce a lock")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="lab-lock-"))
    requirements = (args.image_dir / "requirements-lab.txt").read_bytes()
    exclude = (args.image_dir / "lock-exclude.txt").read_bytes()
    (work / "requirements-lab.txt").write_bytes(requirements)
    base_list = "".join(f"{name}=={version}\n" for name, version in sorted(baseline.installed().items()))
    (work / "base-packages.txt").write_text(base_list)
    inputs = ["requirements-lab.txt"]

    extra_script = args.image_dir / "lock-inputs" / f"{args.flavour}.py"
    extra_digest = "none"
    if extra_script.is_file():
        extra_digest = lockfile.file_digest(extra_script.read_bytes())
        extra = subprocess.run([sys.executable, str(extra_script)], capture_output=True, text=True, check=True)
        (work / f"{args.flavour}-inputs.txt").write_text(extra.stdout)
        inputs.append(f"{args.flavour}-inputs.txt")

    uv = install_uv(args.image_dir, work / "uv")
    resolved_at = args.exclude_newer or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    python_version = f"{sys.version_info.major}.{sys.version_info.minor}"
    command = [str(uv), "pip", "compile", *inputs, "--constraint", "base-packages.txt"]
    # --universal: one lock for this Python and every newer one (markers where they differ),
    # so a base on a newer Python than the one it was locked on still installs it.
    command += ["--universal", "--python-version", python_version, "--generate-hashes"]
    command += ["--emit-build-options", "--no-header", "--exclude-newer", resolved_at, "--quiet"]
    for name in lockfile.excluded_names(exclude.decode()):
        command += ["--no-emit-package", name]
    command += ["--output-file", "lock-body.txt"]
    done = subprocess.run(command, cwd=work, env=uv_environment(), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        print(f"lock: uv could not resolve the {args.flavour} lab layer on this base (above).", file=sys.stderr)
        return 1
    uv_version = subprocess.run([str(uv), "--version"], capture_output=True, text=True, check=True).stdout.split()[1]

    fields = {
        "flavour": args.flavour,
        "base-image": args.base_ref,
        "base-python": ".".join(map(str, sys.version_info[:3])),
        "base-tensorflow": base_tensorflow(),
        "base-packages-sha256": lockfile.file_digest(base_list.encode()),
        "requirements-sha256": lockfile.file_digest(requirements),
        "exclude-sha256": lockfile.file_digest(exclude),
        "flavour-inputs-sha256": extra_digest,
        "resolver": f"uv {uv_version} pip compile --universal --python-version {python_version} --generate-hashes",
        "resolved-at": resolved_at,
    }
    body = (work / "lock-body.txt").read_text()
    lockfile.parse(body)  # refuse to write something the build could not read
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{args.flavour}.txt").write_text(header(fields) + body)
    (args.out / f"{args.flavour}.base.txt").write_text(base_list)
    shutil.rmtree(work, ignore_errors=True)
    print(f"lock: {args.flavour}: {len(lockfile.parse(body).entries)} packages resolved on {fields['base-tensorflow']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
