"""A student's own copy of a package of the image is found, with the command that removes it."""

from __future__ import annotations

from labkit import pipguard, shadow, sitepaths

PINS = pipguard.read_pins("numpy==2.4.6\ntensorflow-rocm==2.18.1\ntensorflow<0\n")


def test_own_copy_of_an_image_package_is_a_shadow():
    found = shadow.find({"numpy": "1.26.4", "tabulate": "0.9.0"}, PINS, "/cache/python-user")
    assert [item.name for item in found] == ["numpy"]
    line = found[0].line()
    assert "numpy 1.26.4" in line and "the image's numpy 2.4.6" in line
    assert "Fix: pip uninstall -y numpy" in line


def test_pypi_tensorflow_over_the_vendor_build_is_a_shadow():
    found = shadow.find({"tensorflow": "2.20.0"}, PINS, "/cache/python-user")
    assert "the image's TensorFlow (tensorflow-rocm 2.18.1)" in found[0].line()


def test_new_packages_are_not_shadows():
    assert shadow.find({"tabulate": "0.9.0"}, PINS, "/cache/python-user") == []


def test_reads_real_distributions_from_a_user_site(tmp_path):
    info = tmp_path / "numpy-1.26.4.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: numpy\nVersion: 1.26.4\n")
    assert shadow.distributions_in([str(tmp_path), str(tmp_path / "missing")]) == {"numpy": "1.26.4"}


def dist_info(folder, name: str, version: str, files: tuple[str, ...] = ()) -> None:
    """A distribution as pip leaves it: METADATA, and a RECORD listing its files."""
    info = folder / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "RECORD").write_text("".join(f"{path},,\n" for path in (*files, f"{info.name}/RECORD")))


def test_copies_in_folders_a_pth_file_adds_are_found_with_the_command_that_removes_them(tmp_path):
    user_site, owned, loose = tmp_path / "site", tmp_path / "vendored", tmp_path / "elsewhere"
    dist_info(user_site, "helper", "1.0", files=("helper.pth",))
    (user_site / "helper.pth").write_text(f"{owned}\n")
    (user_site / "zz-loose.pth").write_text(f"{loose}\n")
    dist_info(owned, "numpy", "1.26.4")
    dist_info(loose, "jupyterlab", "3.0.0")
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("numpy==2.4.6\njupyterlab==4.6.6\n")
    paths = sitepaths.SitePaths(
        image=("/usr/lib/python3.11",),
        user_site=str(user_site),
        added={str(user_site / "helper.pth"): (str(owned),), str(user_site / "zz-loose.pth"): (str(loose),)},
    )

    found = shadow.check(constraints, paths)

    assert [(item.name, item.where, item.command) for item in found] == [
        ("numpy", str(owned), "pip uninstall -y helper"),
        ("jupyterlab", str(loose), f"rm {user_site / 'zz-loose.pth'}"),
    ]
    assert f"it removes {user_site / 'helper.pth'}, the file that puts that folder" in found[0].line()
    assert (
        found[1]
        .line()
        .endswith(
            f"Fix: rm {user_site / 'zz-loose.pth'}   (in a lab terminal; that file puts the folder on Python's path)"
        )
    )


def test_a_copy_in_the_user_site_itself_is_removed_by_name(tmp_path):
    dist_info(tmp_path, "numpy", "1.26.4")
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("numpy==2.4.6\n")
    (found,) = shadow.check(constraints, sitepaths.SitePaths(image=(), user_site=str(tmp_path)))
    assert found.command == "pip uninstall -y numpy"
