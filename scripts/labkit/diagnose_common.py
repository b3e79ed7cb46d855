"""The GPU gate's rules that hold for every vendor: for now, running out of GPU memory.

The formats matched, and where they come from:
- "ResourceExhaustedError: {{function_node __wrapped__MatMul_device_/job:localhost/replica:0/
  task:0/device:GPU:0}} OOM when allocating tensor with shape[256,256] and type float on
  /job:localhost/replica:0/task:0/device:GPU:0 by allocator GPU_0_bfc [Op:MatMul]": the
  exception the probe records for the GPU (type name, then TensorFlow's message, from the BFC
  allocator in tensorflow/core/common_runtime/bfc_allocator.cc and the op's kernel).
- "RESOURCE_EXHAUSTED: Out of memory ...": the same failure through XLA's status text.
- NOT matched: the BFC allocator's warning "Allocator (GPU_0_bfc) ran out of memory trying to
  allocate 1.25GiB ... The caller indicates that this is not a failure": TensorFlow retries
  with less memory, and the check can still pass.
"""

from __future__ import annotations

import re

from labkit.i18n import N_, _
from labkit.verdicts import Facts, Rule, Verdict, verdict

OUT_OF_MEMORY = N_("The GPU ran out of memory during the check")
HEADLINES = (OUT_OF_MEMORY,)

OOM_PATTERN = re.compile(r"ResourceExhaustedError|OOM when allocating|RESOURCE_EXHAUSTED: Out of memory")


def gpu_out_of_memory(facts: Facts) -> Verdict | None:
    if facts.working_gpus:
        return None
    errors = "\n".join(str(gpu.get("error") or "") for gpu in facts.gpus)
    if not OOM_PATTERN.search(errors) and not OOM_PATTERN.search(facts.log):
        return None
    # The check needs well under 10 MB: something else holds the GPU's memory.
    return verdict(
        "fail",
        OUT_OF_MEMORY,
        _(
            "close what else uses the GPU (another lab or notebook, a game, "
            "a browser with hardware acceleration), keep TF_FORCE_GPU_ALLOW_GROWTH=true in .env, "
            "then start again"
        ),
    )


RULES: list[Rule] = [gpu_out_of_memory]
