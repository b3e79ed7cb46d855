"""The NVIDIA flavour's extra lock inputs: the CUDA wheels the base's TensorFlow asks for.

Run by image/relock.py with the base image's python; prints `cuda_libs.py requirements`
(TensorFlow's own `and-cuda` requirement lines, nothing for a non-CUDA build), so the lock
pins, with hashes, exactly the wheels the build's library check then proves.
"""

import runpy
import sys
from pathlib import Path

sys.argv = [sys.argv[0], "requirements"]
runpy.run_path(str(Path(__file__).resolve().parent.parent / "cuda_libs.py"), run_name="__main__")
