"""labhost.rocm_bases: the two ROCm bases, where the doctor gets an image's GPU targets, and
when it recommends the newer base."""

from __future__ import annotations

import json
import re

import pytest
from fakehost import DOCKER, REPO, FakeDocker, host
from fakeworld import make_world, out
from labhost import cli, plan, rocm_bases
from labhost.docker import Completed
from labkit import gfx, seen_targets

PINNED, NEWER = rocm_bases.PINNED_BASE, rocm_bases.NEWER_BASE


def targets(names: str) -> tuple[gfx.GfxTarget, ...]:
    return tuple(gfx.parse_target_list(names))


def test_the_pinned_base_is_the_one_compose_and_dockerfile_build() -> None:
    compose_rocm = (REPO / "compose.rocm.yaml").read_text()
    assert rocm_bases.configured({}, compose_rocm) == (PINNED.base_image, PINNED.lab_image)
    dockerfile = (REPO / "Dockerfile.rocm").read_text()
    assert re.search(rf"^ARG BASE_IMAGE={re.escape(PINNED.base_image)}$", dockerfile, re.MULTILINE)


@pytest.mark.parametrize("base", [PINNED, NEWER], ids=["pinned", "newer"])
def test_each_base_pins_an_exact_tag_and_its_image_name_says_which(base: rocm_bases.RocmBase) -> None:
    assert ":" in base.base_image and "latest" not in base.base_image
    assert f"rocm{base.rocm_version}" in base.base_image
    assert f"tf{base.tensorflow}" in base.base_image
    assert base.lab_image.endswith(f":{base.tensorflow}-rocm{base.rocm_version}")


def test_env_values_choose_the_base() -> None:
    values = {"LAB_ROCM_BASE_IMAGE": NEWER.base_image, "LAB_ROCM_IMAGE": NEWER.lab_image}
    assert rocm_bases.configured(values, "") == (NEWER.base_image, NEWER.lab_image)


def test_documented_list_says_it_was_not_read() -> None:
    supported = rocm_bases.documented(NEWER.base_image, "image x is not built here")
    assert "gfx1151" in [t.llvm_name for t in supported.targets]
    assert "not read from the image" in supported.source
    assert "PR #3181" in supported.source


def test_unknown_base_has_no_documented_list() -> None:
    supported = rocm_bases.documented("rocm/tensorflow:someday", "image x is not built here")
    assert supported.targets == ()
    assert "build the image" in supported.source


@pytest.mark.parametrize(
    "text",
    ["", "not json", '{"targets": "gfx1030"}', '{"no": "targets"}', "[1, 2]"],
    ids=["empty", "not-json", "not-a-list", "no-key", "wrong-shape"],
)
def test_a_file_that_is_not_the_recorded_list_gives_none(text: str) -> None:
    assert rocm_bases.targets_from_file(text, "img") is None


RECORDED_1102 = json.dumps({"targets": ["gfx908", "gfx1030", "gfx1100", "gfx1102"], "rocm_build": True})


def listed(names: str, runtime: str | None = None) -> plan.SupportedTargets:
    return plan.SupportedTargets(
        targets(names), "documented", names, targets(runtime) if runtime is not None else None, "", runtime or ""
    )


PINNED_LISTS = listed(" ".join(PINNED.documented_targets))
NEWER_LISTS = listed(" ".join(NEWER.documented_targets))


@pytest.mark.parametrize(
    ("card", "expected"),
    [
        ("gfx1151", NEWER),  # Strix Halo: no kernels and no stand-in in 2.18
        ("gfx1150", NEWER),  # Strix Point
        ("gfx1031", None),  # the pinned base runs it as gfx1030
        ("gfx1102", None),  # natively in both
        ("gfx1152", None),  # neither base has it: nothing to recommend
        ("gfx803", None),  # unusable everywhere
    ],
)
def test_newer_base_is_recommended_only_when_the_card_needs_it(card: str, expected) -> None:
    found = rocm_bases.recommend_newer([gfx.from_llvm_name(card)], PINNED_LISTS, PINNED.base_image, NEWER_LISTS)
    assert (found.base if found else None) == expected
    if found:
        assert f"LAB_ROCM_BASE_IMAGE={NEWER.base_image}" in found.fix
        assert f"LAB_ROCM_IMAGE={NEWER.lab_image}" in found.fix


def test_no_recommendation_when_the_newer_base_is_already_chosen() -> None:
    assert (
        rocm_bases.recommend_newer([gfx.from_llvm_name("gfx1151")], listed(""), NEWER.base_image, NEWER_LISTS) is None
    )


def test_newer_base_advice_says_the_override_cards_are_unknown_before_its_image_is_built() -> None:
    newer = rocm_bases.documented(NEWER.base_image, "image x is not built here")
    found = rocm_bases.recommend_newer([gfx.from_llvm_name("gfx1151")], PINNED_LISTS, PINNED.base_image, newer)
    assert "which consumer cards need HSA_OVERRIDE_GFX_VERSION there is not known yet" in found.detail
    assert "unknown until the image is built (image x is not built here)" in found.detail


# The newer base's compiled list, and its run-time list before ROCm/tensorflow-upstream#3181
# (upstream XLA at TF 2.20, as tensorflow-cpu 2.20.0 carries it) and after (gfx1102, gfx1150,
# gfx1151 back or added).
TF220_UPSTREAM = "gfx900 gfx906 gfx908 gfx90a gfx942 gfx950 gfx1030 gfx1100 gfx1101 gfx1200 gfx1201"
TF220_3181 = "gfx900 gfx906 gfx908 gfx90a gfx942 gfx950 gfx1030 gfx1100 gfx1101 gfx1102 gfx1150 gfx1151 gfx1200 gfx1201"


@pytest.mark.parametrize(
    ("runtime", "groups"),
    [
        (TF220_3181, "10.3.0: gfx1031, gfx1032, gfx1033, gfx1034, gfx1035, gfx1036; 11.0.0: gfx1103"),
        # Kernels for gfx1102 but refused: the RX 7600 needs 11.0.0 there too; Strix is refused.
        (TF220_UPSTREAM, "10.3.0: gfx1031, gfx1032, gfx1033, gfx1034, gfx1035, gfx1036; 11.0.0: gfx1102, gfx1103"),
    ],
    ids=["with-3181", "before-3181"],
)
def test_newer_base_advice_names_the_consumer_cards_that_need_an_override_there(runtime: str, groups: str) -> None:
    newer = listed(" ".join(NEWER.documented_targets), runtime)
    found = rocm_bases.recommend_newer([gfx.from_llvm_name("gfx1151")], PINNED_LISTS, PINNED.base_image, newer)
    if "gfx1151" not in runtime:
        assert found is None  # refused there too: nothing to recommend for a Strix laptop
        assert rocm_bases.overrides_clause(newer).endswith(groups)
        return
    assert found.detail.endswith(f"there these consumer cards need HSA_OVERRIDE_GFX_VERSION: {groups}")


def doctor(world) -> dict:
    cli.main(["doctor", "--json"], world)
    return json.loads(out(world))


def test_doctor_recommends_the_newer_base_for_a_strix_laptop(tmp_path) -> None:
    data = doctor(make_world(tmp_path, "strix-halo-gfx1151"))
    (check,) = [c for c in data["checks"] if c["name"] == "rocm base"]
    assert check["status"] == "warn"
    assert "gfx1151" in check["detail"]
    assert "not read from the image" in check["detail"]  # neither image is built in this world
    assert NEWER.base_image in check["fix"]
    assert data["plan"]["flavour"] == "cpu"  # until the instructor switches, the CPU lab runs


def test_the_newer_images_own_list_wins_once_it_is_built(tmp_path) -> None:
    # The newer image is here, and its libraries (unlike AMD's recipe) have no gfx1151: no advice.
    def answer(image: str, listed: str) -> dict:
        return {
            ("docker", "image", "inspect", "--format", "{{json .Config.Labels}}", image): Completed(0, "{}\n"),
            ("docker", "run", "--rm", "--network", "none", "--entrypoint", "cat", image): Completed(0, listed),
        }

    answers = answer(NEWER.lab_image, json.dumps({"targets": ["gfx1100", "gfx1200"]}))
    data = doctor(make_world(tmp_path, "strix-halo-gfx1151", run=FakeDocker(answers)))
    assert [c for c in data["checks"] if c["name"] == "rocm base"] == []


def test_doctor_reads_the_built_images_list_and_an_rx7600_gets_no_override(tmp_path) -> None:
    # The built image recorded gfx1102 from its libraries: the needless 11.0.0 override the
    # old hard-coded list caused cannot come back.
    answers = {
        ("docker", "image", "inspect"): Completed(0, '{"io.courselab.rocm.tf-targets-file": "/opt/lab/x.json"}\n'),
        ("docker", "run"): Completed(0, RECORDED_1102),
    }
    run = FakeDocker(answers)
    data = doctor(make_world(tmp_path, "rx7600", run=run))
    assert data["plan"]["override"] is None
    assert "read from image courselab/lab:test-rocm" in data["plan"]["image_targets_source"]
    assert ["docker", "run", "--rm", "--network", "none", "--entrypoint", "cat", "courselab/lab:test-rocm",
            "/opt/lab/x.json"] in run.calls  # fmt: skip


def test_the_old_hard_coded_list_is_what_gave_an_rx7600_an_override() -> None:
    # Before: Dockerfile.rocm's typed-in list lacked gfx1102, so the plan borrowed gfx1100.
    old = plan.SupportedTargets(
        targets("gfx908 gfx90a gfx940 gfx941 gfx942 gfx1030 gfx1100 gfx1101 gfx1200 gfx1201"), "old"
    )
    assert plan.make_plan(host("rx7600"), old).decision.override == "11.0.0"
    now = plan.SupportedTargets(targets(" ".join(PINNED.documented_targets)), "documented")
    assert plan.make_plan(host("rx7600"), now).decision.override is None


@pytest.mark.parametrize("base", [PINNED, NEWER], ids=["pinned", "newer"])
def test_the_docs_and_env_example_name_each_base_as_the_code_does(base: rocm_bases.RocmBase) -> None:
    doc = (REPO / "docs" / "rocm-bases.md").read_text()
    env_example = (REPO / ".env.example").read_text()
    for text in (base.base_image, base.lab_image, " ".join(base.documented_targets)):
        assert text in doc
    for key, value in base.env.items():
        assert f"# {key}={value}\n" in env_example


def test_release_manifest_lists_the_targets_the_image_recorded() -> None:
    from labhost.commands import release

    run = FakeDocker({("docker", "run"): Completed(0, RECORDED_1102)})
    labels = {rocm_bases.TARGETS_FILE_LABEL: "/opt/lab/rocm-tf-targets.json"}
    facts = release.recorded_rocm_targets(run, "img", labels)
    assert facts["rocm_tf_targets"] == ["gfx908", "gfx1030", "gfx1100", "gfx1102"]
    assert facts["rocm_tf_runtime_targets"] is None  # an image built before the run-time list was read
    assert "rebuild it" in facts["rocm_tf_runtime_source"]
    assert run.calls[-1][-2:] == ["img", "/opt/lab/rocm-tf-targets.json"]


def test_release_manifest_lists_both_lists_the_image_recorded() -> None:
    from labhost.commands import release

    recorded = json.dumps(
        {
            "targets": ["gfx1030", "gfx1100", "gfx1102"],
            "runtime_targets": TF220_UPSTREAM.split(),
            "runtime_source": "stream_executor::RocmComputeCapability::kSupportedGfxVersions in libtensorflow_cc.so.2",
            "tensorflow_id": "sha256:" + "ab" * 32,
        }
    )
    run = FakeDocker({("docker", "run"): Completed(0, recorded)})
    facts = release.gpu_facts("rocm", release.recorded_rocm_targets(run, "img", {}), {})
    assert facts["rocm_tf_targets"] == ["gfx1030", "gfx1100", "gfx1102"]
    assert facts["rocm_tf_runtime_targets"] == TF220_UPSTREAM.split()
    assert "kSupportedGfxVersions in libtensorflow_cc.so.2" in facts["rocm_tf_runtime_source"]


TF_ID = "sha256:" + "7a" * 32
COMPOSE_MODEL = (DOCKER / "compose-config-rocm.json").read_text()  # a real `config --format json`


def built_image(recorded: dict, *, volume: bool, seen: str | None = None) -> FakeDocker:
    answers = {
        ("docker", "image", "inspect"): Completed(0, '{"io.courselab.rocm.tf-targets-file": "/opt/lab/x.json"}\n'),
        ("docker", "compose", "-f", "compose.yaml", "-f", "compose.rocm.yaml", "config", "--format", "json"): Completed(
            0, COMPOSE_MODEL
        ),
        ("docker", "volume", "inspect"): Completed(0, "courselab_cache\n") if volume else Completed(1, "", "no such"),
        ("docker", "run", "--rm", "--network", "none", "--volume"): Completed(0, seen) if seen else Completed(1, ""),
        ("docker", "run"): Completed(0, json.dumps(recorded)),
    }
    return FakeDocker(answers)


def test_doctor_decides_from_both_lists_the_image_recorded(tmp_path) -> None:
    # TensorFlow 2.20 before ROCm/tensorflow-upstream#3181: gfx1102 kernels, refused at run time.
    recorded = {"targets": NEWER.documented_targets, "runtime_targets": TF220_UPSTREAM.split(), "tensorflow_id": TF_ID}
    data = doctor(make_world(tmp_path, "rx7600", run=built_image(recorded, volume=True)))
    assert data["plan"]["override"] == "11.0.0"
    assert data["plan"]["image_runtime_targets"] == TF220_UPSTREAM
    assert data["plan"]["image_runtime_targets_source"].startswith("read from image courselab/lab:test-rocm")
    (check,) = [c for c in data["checks"] if c["name"] == "rocm target"]
    assert "targets TensorFlow accepts at run time: read from image" in check["detail"]


def test_doctor_uses_the_list_the_gpu_check_recorded_on_the_cache_volume(tmp_path) -> None:
    recorded = {"targets": NEWER.documented_targets, "runtime_targets": None, "tensorflow_id": TF_ID}
    seen = seen_targets.record_text(", ".join(TF220_UPSTREAM.split()), seen_at="2026-12-07T10:00:00+00:00")
    run = built_image(recorded, volume=True, seen=seen)
    data = doctor(make_world(tmp_path, "rx7600", run=run))
    assert data["plan"]["override"] == "11.0.0"
    assert (
        "printed by TensorFlow when it refused a card here (2026-12-07T10:00:00+00:00)"
        in (data["plan"]["image_runtime_targets_source"])
    )
    read = [c for c in run.calls if "--volume" in c]
    assert read[0][-3:] == ["cat", "courselab/lab:test-rocm", f"/cache/lab/rocm-runtime-targets/{'7a' * 32}.json"]
    assert "courselab_cache:/cache:ro" in read[0]


def test_without_the_cache_volume_nothing_is_mounted_and_the_list_stays_unknown(tmp_path) -> None:
    # `docker run -v` would create the volume: it is looked up first.
    recorded = {"targets": NEWER.documented_targets, "runtime_problem": "no symbol", "tensorflow_id": TF_ID}
    run = built_image(recorded, volume=False)
    data = doctor(make_world(tmp_path, "rx7600", run=run))
    assert not [c for c in run.calls if "--volume" in c]
    assert data["plan"]["image_runtime_targets"] is None
    assert "not readable from image courselab/lab:test-rocm (no symbol)" in data["plan"]["image_runtime_targets_source"]
    assert data["plan"]["override"] is None  # the compiled list decides until TensorFlow refuses the card
