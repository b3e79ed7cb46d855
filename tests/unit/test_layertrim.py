"""The lab layer's trim (image/layertrim.py): it removes exactly the files the named package
installed under the named path, keeps the package's metadata truthful, and refuses in one
line when the list no longer matches what the package installs.

The distributions here are written the way pip installs a wheel: a .dist-info folder with
METADATA and a RECORD (CSV: path, hash, size; data files named relative to site-packages,
`../../../share/...`, as in jupyterhub's own RECORD; PEP 376, PEP 427)."""

from __future__ import annotations

import csv
import io
from pathlib import Path, PurePosixPath

import layertrim
import pytest

REPO = Path(__file__).resolve().parents[2]
SITE = "lib/python3.11/site-packages"


def install(prefix: Path, name: str, files: dict[str, str]) -> Path:
    """A fake installed distribution: files (paths relative to the prefix) plus its RECORD."""
    site = prefix / SITE
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    rows = []
    for relative, text in files.items():
        path = prefix / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        record = Path("../../..", relative).as_posix() if not relative.startswith(SITE) else relative[len(SITE) + 1 :]
        rows.append([record, "sha256=x", str(len(text))])
    rows += [[f"{info.name}/METADATA", "", ""], [f"{info.name}/RECORD", "", ""]]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    (info / "RECORD").write_text(out.getvalue())
    return info


def record_paths(info: Path) -> list[str]:
    return [row[0] for row in csv.reader((info / "RECORD").open())]


@pytest.fixture
def prefix(tmp_path):
    return tmp_path / "venv"


def test_removes_the_packages_files_under_the_path_and_their_record_rows(prefix):
    info = install(
        prefix,
        "hubby",
        {
            f"{SITE}/hubby/__init__.py": "x = 1\n",
            "share/hubby/static/big.js": "a" * 1000,
            "share/hubby/templates/page.html": "<p>",
            "bin/hubby": "#!/bin/sh\n",
            "bin/hubby-singleuser": "#!/bin/sh\n",
        },
    )
    trim = layertrim.Trim("hubby", PurePosixPath("share/hubby"))
    files, size = layertrim.apply(trim, prefix=prefix, path=[str(prefix / SITE)])
    assert (files, size) == (2, 1003)
    assert not (prefix / "share" / "hubby").exists()
    assert (prefix / "bin" / "hubby-singleuser").is_file()
    assert (prefix / SITE / "hubby" / "__init__.py").is_file()
    assert record_paths(info) == [
        "hubby/__init__.py",
        "../../../bin/hubby",
        "../../../bin/hubby-singleuser",
        "hubby-1.0.dist-info/METADATA",
        "hubby-1.0.dist-info/RECORD",
    ]


def test_a_single_file_can_be_trimmed(prefix):
    info = install(prefix, "hubby", {"bin/hubby": "#!/bin/sh\n", "bin/hubby-singleuser": "#!/bin/sh\n"})
    layertrim.apply(layertrim.Trim("hubby", PurePosixPath("bin/hubby")), prefix=prefix, path=[str(prefix / SITE)])
    assert not (prefix / "bin" / "hubby").exists()
    assert "../../../bin/hubby" not in record_paths(info)
    assert "../../../bin/hubby-singleuser" in record_paths(info)


def test_refuses_a_path_holding_files_another_package_installed(prefix):
    install(prefix, "hubby", {"share/hubby/a.js": "a"})
    (prefix / "share" / "hubby" / "added-by-someone-else.js").write_text("b")
    trim = layertrim.Trim("hubby", PurePosixPath("share/hubby"))
    with pytest.raises(layertrim.TrimRefused, match=r"holds 1 file\(s\) hubby did not install"):
        layertrim.apply(trim, prefix=prefix, path=[str(prefix / SITE)])
    assert (prefix / "share" / "hubby" / "a.js").is_file(), "a refused trim deletes nothing"


@pytest.mark.parametrize(
    ("trim", "message"),
    [
        pytest.param(("hubby", "share/moved"), "hubby installed nothing under share/moved", id="path-moved"),
        pytest.param(("gone", "share/hubby"), "gone is not installed", id="package-not-installed"),
    ],
)
def test_refuses_a_list_that_no_longer_matches_the_package(prefix, trim, message):
    install(prefix, "hubby", {"share/hubby/a.js": "a"})
    with pytest.raises(layertrim.TrimRefused, match=message):
        layertrim.apply(layertrim.Trim(trim[0], PurePosixPath(trim[1])), prefix=prefix, path=[str(prefix / SITE)])


@pytest.mark.parametrize(
    "line",
    [
        pytest.param("jupyterhub", id="no-path"),
        pytest.param("jupyterhub share/jupyterhub extra", id="three-fields"),
        pytest.param("jupyterhub /opt/lab-venv/share", id="absolute"),
        pytest.param("jupyterhub ../../etc", id="leaves-the-venv"),
        pytest.param("jupyterhub .", id="the-whole-venv"),
    ],
)
def test_parse_refuses_a_malformed_line(line):
    with pytest.raises(layertrim.TrimRefused, match="line 2: expected `DISTRIBUTION PATH-UNDER-THE-VENV`"):
        layertrim.parse(f"# comment\n{line}\n")


def test_the_shipped_list_trims_only_the_hubs_pages_and_command():
    trims = layertrim.parse((REPO / "image" / "lab-layer-trim.txt").read_text())
    assert trims == [
        layertrim.Trim("jupyterhub", PurePosixPath("share/jupyterhub")),
        layertrim.Trim("jupyterhub", PurePosixPath("bin/jupyterhub")),
    ]


def test_main_says_what_it_refused_in_one_line(prefix, tmp_path, capsys, monkeypatch):
    listing = tmp_path / "trim.txt"
    listing.write_text("no-such-package share/x\n")
    monkeypatch.setattr(layertrim.sys, "prefix", str(prefix))
    assert layertrim.main([str(listing)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "lab layer: trim refused: no-such-package is not installed, so there is nothing of it to trim. "
        "Fix: re-check what the lab needs from it and update image/lab-layer-trim.txt."
    ]
