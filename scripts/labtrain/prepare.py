"""Download and prepare a dataset into the cache, then stop: before a class, or before going
offline. In the lab: `docker compose run --rm lab prepare [--dataset NAME]`."""

from __future__ import annotations

import argparse

from labkit.i18n import N_, _

from labtrain import data
from labtrain.errors import explain_errors
from labtrain.settings import DEFAULT_DATASET, Settings

HELP_DATASET = N_("a TFDS image-classification dataset (default {default})")
HELP_DATA_DIR = N_("TFDS data folder (default: $TFDS_DATA_DIR, else ~/tensorflow_datasets)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="prepare", description=__doc__)
    parser.add_argument("--dataset", default=DEFAULT_DATASET, help=_(HELP_DATASET).format(default=DEFAULT_DATASET))
    parser.add_argument("--data-dir", help=_(HELP_DATA_DIR))
    options = parser.parse_args(argv)
    settings = Settings(dataset=options.dataset, data_dir=options.data_dir, download=True)
    with explain_errors("prepare", batch_size=settings.batch_size):
        builder = data.prepare(settings)
    print(
        _("[prepare] {name!r} is ready in {folder}").format(name=settings.dataset, folder=builder.data_dir), flush=True
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
