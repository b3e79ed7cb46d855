"""What each kind of setting accepts. The same grammars run against the real compose in
tests/config/test_values_vs_compose.py; these are the pure cases, fast and without Docker."""

from __future__ import annotations

import pytest
from labkit import values

GIB = 1024**3


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("8g", 8 * GIB),
        ("8gb", 8 * GIB),
        ("8GB", 8 * GIB),
        ("8GiB", 8 * GIB),
        ("8 g", 8 * GIB),
        ("1.5g", int(1.5 * GIB)),
        (".5g", GIB // 2),
        ("5.g", 5 * GIB),
        ("8", 8),
        ("8b", 8),
        ("512m", 512 * 1024**2),
        ("1e3", 1000),
        ("0x1p3g", 8 * GIB),
        ("1_000", 1000),
        ("+8g", 8 * GIB),
        ("0", 0),
        ("8e", None),
        ("8x", None),
        ("-1", None),
        ("1.5.2g", None),
        ("0x10", None),
        ("8bb", None),
        ("8ib", None),
        ("8 gigabytes", None),
        ("lots", None),
        ("1e30", None),
    ],
)
def test_sizes_are_read_like_go_units_ram_in_bytes(text: str, size: int | None) -> None:
    assert values.size_in_bytes(text) == size


@pytest.mark.parametrize(
    ("check", "value", "accepted"),
    [
        (values.memory_size, "8gb", True),
        (values.memory_size, "0", True),
        (values.memory_size, "8", False),  # 8 bytes: Docker's minimum is 6 MiB
        (values.shm_size, "64m", True),
        (values.cpus, "1.5", True),
        (values.cpus, "0", True),
        (values.cpus, "1e0", True),
        (values.cpus, "-1", False),
        (values.cpus, "0.001", False),
        (values.cpus, "inf", False),
        (values.cpus, "1,5", False),
        (values.pids, "2048", True),
        (values.pids, "0", True),
        (values.pids, "-1", True),
        (values.pids, "+4096", True),
        (values.pids, "10", False),
        (values.pids, "1e3", False),
        (values.gpu_count, "all", True),
        (values.gpu_count, "ALL", True),
        (values.gpu_count, "2", True),
        (values.gpu_count, "-1", True),
        (values.gpu_count, "1.5", False),
        (values.gpu_count, "none", False),
        (values.port, "8888", True),
        (values.port, "0", False),
        (values.port, "8888-8890", False),
        (values.port, "８８８８", False),  # full-width digits: Python's isdigit, not compose's
        (values.ip_address, "127.0.0.1", True),
        (values.ip_address, "::1", True),
        (values.ip_address, "[::1]", True),
        (values.ip_address, "localhost", False),
        (values.ip_address, "127.0.0.01", False),
        (values.ip_address, "fe80::1%eth0", False),
        (values.host_folder, "./work", True),
        (values.host_folder, "~/bài tập", True),
        (values.host_folder, "C:\\Users\\lan\\work", False),
        (values.tf_log_level, "2", True),
        (values.tf_log_level, "4", False),
        (values.compose_files, "compose.yaml:compose.rocm.yaml", True),
        (values.compose_files, "compose.yaml,compose.rocm.yaml", False),
    ],
)
def test_check_accepts_what_its_consumer_accepts(check, value: str, accepted: bool) -> None:
    assert (check("KEY", value) is None) is accepted


@pytest.mark.parametrize(
    ("reference", "valid"),
    [
        ("courselab/lab:2.20.0-cpu", True),
        ("tensorflow/tensorflow:2.20.0-gpu", True),
        ("rocm/tensorflow:rocm6.4.1-py3.12-tf2.18-dev", True),
        ("localhost:5000/course/lab:1", True),
        ("registry.Example.com/lab:1", True),  # the domain may have capitals, the path not
        ("a__b:1", True),
        ("lab@sha256:" + "a" * 64, True),
        ("lab:1@sha256:" + "a" * 64, True),
        ("CourseLab/Lab:1", False),
        ("Course Lab:latest", False),
        ("a..b:1", False),
        ("a___b:1", False),
        ("x:-tag", False),
        ("lab@sha256:abc", False),
        ("a" * 64, False),
        ("x/" + "y" * 254, False),
    ],
)
def test_image_references_follow_distribution_reference(reference: str, valid: bool) -> None:
    assert (values.image("LAB_IMAGE", reference) is None) is valid


def test_an_uppercase_image_name_says_names_are_lowercase() -> None:
    problem = values.image("LAB_IMAGE", "CourseLab/lab:1")

    assert problem is not None and "(names are lowercase)" in problem.message


def test_a_size_without_its_unit_names_the_likely_fix() -> None:
    problem = values.memory_size("LAB_MEMORY_LIMIT", "8")

    assert problem is not None
    assert problem.fix == "add the unit, e.g. LAB_MEMORY_LIMIT=8g"
