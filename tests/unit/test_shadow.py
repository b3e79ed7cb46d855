"""A student's own copy of a package of the image is found, with the command that removes it."""

from __future__ import annotations

from labkit import pipguard, shadow

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
