"""GPU out of memory in training: one line with what to change, and a distinct exit code.
A real GPU OOM needs a GPU; the error TensorFlow raises for it is injected here."""

from __future__ import annotations

import pytest
from workload_support import LAB, needs_tensorflow

pytestmark = needs_tensorflow


@pytest.fixture
def train_module(monkeypatch):
    monkeypatch.syspath_prepend(str(LAB))
    import train

    return train


def test_out_of_memory_prints_one_line_with_a_smaller_batch(train_module, monkeypatch, capsys):
    import tensorflow as tf

    def exhausted(config, log):
        raise tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor with shape[256,32,32,64]")

    monkeypatch.setattr(train_module, "train", exhausted)
    code = train_module.main(["--synthetic", "--batch-size", "256"])
    err = capsys.readouterr().err
    assert code == 4
    assert err.count("\n") == 1
    assert "ran out of memory at --batch-size 256" in err
    assert "--batch-size 128" in err
    assert "TF_FORCE_GPU_ALLOW_GROWTH=true" in err


def test_smallest_batch_never_suggests_zero(train_module):
    config = train_module.Config(batch_size=1)
    assert "--batch-size 1 (" in train_module.out_of_memory_message(config)
