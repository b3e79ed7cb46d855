"""docs/hardware/README.md's table is generated from the verify records beside it."""

from __future__ import annotations

import json

from fakehost import REPO
from labhost import hardware_table

README = REPO / "docs" / "hardware" / "README.md"


def test_the_docs_table_is_exactly_what_the_records_generate():
    # Fails when a row is typed by hand, or a record is added without regenerating:
    # run `python3 scripts/lab verify --update-table`.
    assert hardware_table.current(README) == hardware_table.table(README.parent)


def test_no_record_means_the_table_says_so(tmp_path):
    assert hardware_table.EMPTY in hardware_table.table(tmp_path)


def test_update_rewrites_only_the_table_and_lists_each_record(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(
        f"# Hardware\n\nintro\n\n{hardware_table.START}\nhand-typed row\n{hardware_table.END}\n\nfooter\n"
    )
    record = {
        "schema": "courselab.verify/1",
        "date": "2026-11-28",
        "result": "pass",
        "flavour": "rocm",
        "hardware": {
            "amd_gpus": [{"target": "gfx1036", "used_by_lab": False}, {"target": "gfx1031", "used_by_lab": True}]
        },
        "settings": {"HSA_OVERRIDE_GFX_VERSION": "10.3.0"},
        "steps": {
            "gate": {"status": "gpu", "tensorflow": "2.18.1", "gpus": [{"device_name": "AMD Radeon RX 6700 XT"}]},
            "benchmark": {"rows": [{"kind": "GPU", "images_per_second": 4100.4}]},
            "notebook": {"cells_run": 3, "code_cells": 3, "errors": []},
        },
    }
    (tmp_path / "courselab-verify-rocm-gfx1031-2026-11-28.json").write_text(json.dumps(record))
    (tmp_path / "unrelated.json").write_text("{}")

    assert hardware_table.update(readme) is True
    text = readme.read_text()

    assert "hand-typed row" not in text
    assert text.startswith("# Hardware\n\nintro\n") and text.endswith("\n\nfooter\n")
    assert (
        "| AMD Radeon RX 6700 XT (gfx1031) | rocm | 2.18.1 | HSA_OVERRIDE_GFX_VERSION=10.3.0 | gpu | GPU 4100 "
        "| 3/3 cells | 2026-11-28 | [courselab-verify-rocm-gfx1031-2026-11-28.json]" in text
    )
    assert hardware_table.update(readme) is False
