"""GPU out of memory in training: one line with what to change, and a distinct exit code.

A real GPU out-of-memory needs a GPU. Here the error TensorFlow raises for it
(tf.errors.ResourceExhaustedError, what the allocator raises when an allocation fails) is
injected into model.fit, both in-process and through the real train.py in a subprocess.
"""

from __future__ import annotations

import pytest
from workload_support import TINY_ARGS, needs_tensorflow, run_script, script_env

pytestmark = needs_tensorflow

OOM_TEXT = "OOM when allocating tensor with shape[256,32,32,64] and type float on /GPU:0 by allocator GPU_0_bfc"

# Loaded by the interpreter at start-up (site.py imports `sitecustomize` from sys.path): makes
# every fit() fail the way TensorFlow fails when the GPU's memory runs out.
INJECT_OOM = f"""
import keras
import tensorflow as tf

def fit(self, *args, **kwargs):
    raise tf.errors.ResourceExhaustedError(None, None, {OOM_TEXT!r})

keras.Model.fit = fit
"""


def test_explain_errors_turns_out_of_memory_into_one_line_and_exit_4(capsys):
    import tensorflow as tf
    from labtrain.errors import explain_errors

    with pytest.raises(SystemExit) as stopped, explain_errors("train", batch_size=256):
        raise tf.errors.ResourceExhaustedError(None, None, OOM_TEXT)
    err = capsys.readouterr().err
    assert stopped.value.code == 4
    assert err.count("\n") == 1
    assert "ran out of memory at --batch-size 256" in err
    assert "--batch-size 128" in err
    assert "TF_FORCE_GPU_ALLOW_GROWTH=true" in err


def test_other_errors_keep_their_traceback():
    from labtrain.errors import explain_errors

    with pytest.raises(ZeroDivisionError), explain_errors("train", batch_size=8):
        1 / 0  # noqa: B018 - a bug, not a student's problem


def test_smallest_batch_never_suggests_zero():
    from labtrain.errors import out_of_memory_message

    assert "--batch-size 1 (" in out_of_memory_message(1)


def test_train_py_reports_out_of_memory_in_fit_as_one_line(tmp_path, empty_tfds):
    inject = tmp_path / "inject"
    inject.mkdir()
    (inject / "sitecustomize.py").write_text(INJECT_OOM)
    env = script_env(empty_tfds)
    env["PYTHONPATH"] = f"{inject}:{env['PYTHONPATH']}"
    args = ["--output", str(tmp_path / "runs"), "--synthetic", "--epochs", "1", *TINY_ARGS]
    done = run_script("train.py", args, env=env, cwd=tmp_path)
    errors = [line for line in done.stderr.splitlines() if line.startswith("[train]")]
    assert done.returncode == 4, done.stderr[-3000:]
    assert errors == [errors[0]] and "ran out of memory at --batch-size 16" in errors[0]
    assert "Traceback" not in done.stderr
