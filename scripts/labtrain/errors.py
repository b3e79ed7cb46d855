"""Problems a student can fix, and how a script reports them: one line, a distinct exit code,
no traceback. Notebooks get the exceptions themselves."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from labkit.i18n import _

EXIT_SETTINGS = 2
EXIT_DATASET = 3
EXIT_OUT_OF_MEMORY = 4


class TrainError(Exception):
    """A problem the student can fix; scripts print it as one line and exit non-zero."""

    exit_code = EXIT_SETTINGS


class DatasetUnavailable(TrainError):
    exit_code = EXIT_DATASET


def out_of_memory_message(batch_size: int) -> str:
    """What a student reads when the device ran out of memory mid-training."""
    return _(
        "the device ran out of memory at --batch-size {batch_size}. Fix: run the same command with "
        "--batch-size {smaller} (the run resumes after its last completed epoch); keep "
        "TF_FORCE_GPU_ALLOW_GROWTH=true in .env and close other programs that use the GPU "
        "(a desktop on the same GPU takes memory too)"
    ).format(batch_size=batch_size, smaller=max(1, batch_size // 2))


def error_line(prefix: str, message: str) -> str:
    return _("[{prefix}] ERROR: {message}").format(prefix=prefix, message=message)


@contextlib.contextmanager
def explain_errors(prefix: str, *, batch_size: int) -> Iterator[None]:
    """Around a script's work: a TrainError or running out of memory becomes one line on
    stderr and SystemExit with its code. Anything else is a bug and keeps its traceback."""
    try:
        yield
    except TrainError as error:
        print(error_line(prefix, str(error)), file=sys.stderr, flush=True)
        raise SystemExit(error.exit_code) from None
    except Exception as error:
        import tensorflow as tf  # already loaded by whatever raised; not at import time

        if not isinstance(error, tf.errors.ResourceExhaustedError):
            raise
        # TensorFlow's own text is pages of allocator statistics; one line says what to change.
        print(error_line(prefix, out_of_memory_message(batch_size)), file=sys.stderr, flush=True)
        raise SystemExit(EXIT_OUT_OF_MEMORY) from None
