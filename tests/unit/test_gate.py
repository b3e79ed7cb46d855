"""The gate's I/O shell: reading the probe's output and the device report."""

from __future__ import annotations

from labkit import gate
from labkit.diagnose import Facts, Verdict, gate_policy


def test_probe_json_is_found_after_tensorflow_noise():
    stdout = 'some TF banner\n{"tensorflow": "2.20.0", "gpus": []}\n'
    assert gate.parse_probe_stdout(stdout) == {"tensorflow": "2.20.0", "gpus": []}


def test_missing_or_broken_json_gives_empty_data():
    assert gate.parse_probe_stdout("Segmentation fault\n") == {}
    assert gate.parse_probe_stdout('{"truncated": \n') == {}


def test_report_names_versions_and_each_gpu():
    facts = Facts(
        probe={
            "tensorflow": "2.18.1",
            "python": "3.12.3",
            "build": {"is_rocm_build": "True"},
            "rocm_version": "6.4.1",
            "gpus": [
                {
                    "name": "/physical_device:GPU:0",
                    "device_name": "AMD Radeon RX 6700 XT",
                    "matmul_ok": True,
                    "conv_ok": True,
                }
            ],
        },
        flavour="rocm",
    )
    lines = gate.report_lines(facts)
    assert lines[0] == "TensorFlow 2.18.1 (ROCm build), Python 3.12.3"
    assert "ROCm 6.4.1" in lines
    assert "GPU /physical_device:GPU:0: AMD Radeon RX 6700 XT: matmul and conv match the CPU" in lines


def test_probe_timeout_is_reported_not_hung(monkeypatch):
    # A real child that sleeps past the timeout: the gate must give up and say so.
    import subprocess
    import sys

    real_run = subprocess.run

    def slow_probe(command, **kwargs):
        return real_run([sys.executable, "-c", "import time; time.sleep(30)"], **kwargs)

    monkeypatch.setattr(gate.subprocess, "run", slow_probe)
    data, _, timed_out, exit_code = gate.run_probe(timeout=0.5, env={})
    assert timed_out is True
    assert data == {}
    assert exit_code is None


def test_gpu_flavours_refuse_cpu_only_and_cpu_flavour_proceeds():
    cpu = Verdict("cpu", "No GPU", "fix")
    assert gate_policy(cpu, require_gpu=False).proceed is True
    assert gate_policy(cpu, require_gpu=True).proceed is False
    assert gate_policy(cpu, require_gpu=True).exit_code != 0
    assert gate_policy(Verdict("fail", "x", "y"), require_gpu=False).proceed is False
    assert gate_policy(Verdict("gpu", "x", "y"), require_gpu=True).proceed is True


def test_kfd_targets_read_from_a_topology_tree(tmp_path):
    # Real layout: one folder per node; CPU nodes report simd_count 0 and gfx_target_version 0.
    nodes = tmp_path / "sys/class/kfd/kfd/topology/nodes"
    (nodes / "0").mkdir(parents=True)
    (nodes / "0" / "properties").write_text("cpu_cores_count 16\nsimd_count 0\ngfx_target_version 0\n")
    (nodes / "1").mkdir()
    (nodes / "1" / "properties").write_text("cpu_cores_count 0\nsimd_count 80\ngfx_target_version 100301\n")
    assert gate.kfd_targets(tmp_path, environ={}) == ("gfx1031",)


def test_no_kfd_topology_means_no_targets(tmp_path):
    assert gate.kfd_targets(tmp_path / "missing", environ={}) == ()


TF220_BUILD = {
    "is_cuda_build": "True",
    "cuda_compute_capabilities": "['sm_60', 'sm_70', 'sm_80', 'sm_89', 'compute_90']",
}


def nvidia_facts(capability: str) -> Facts:
    card = {
        "name": "/physical_device:GPU:0",
        "device_name": "NVIDIA H100",
        "compute_capability": capability,
        "matmul_ok": True,
        "conv_ok": True,
    }
    return Facts(
        probe={"tensorflow": "2.20.0", "python": "3.11.2", "build": TF220_BUILD, "gpus": [card]}, flavour="nvidia"
    )


def test_report_says_when_a_card_is_served_by_ptx_only():
    lines = gate.report_lines(nvidia_facts("(9, 0)"))
    notes = [line for line in lines if "PTX" in line]
    assert len(notes) == 1
    assert "compute capability 9.0 has no prebuilt kernels here (sm_60, sm_70, sm_80, sm_89)" in notes[0]
    assert "(compute_90)" in notes[0]
    assert "CUDA_CACHE_PATH" in notes[0]


def test_report_is_silent_about_ptx_for_a_card_with_prebuilt_kernels():
    lines = gate.report_lines(nvidia_facts("(8, 6)"))
    assert not any("PTX" in line for line in lines)


def test_probe_runs_with_tensorflow_naming_the_libraries_it_cannot_open():
    env = gate.probe_env({"TF_CPP_MIN_LOG_LEVEL": "1", "LAB_FLAVOUR": "nvidia"})
    assert env["TF_CPP_MIN_LOG_LEVEL"] == "0"
    assert env["TF_CPP_VMODULE"] == "dso_loader=1"
    assert env["LAB_FLAVOUR"] == "nvidia"
