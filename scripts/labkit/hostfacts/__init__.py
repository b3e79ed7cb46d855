"""Host facts that the host command (labhost) and the container (labkit) both read.

One reader for each fact, standard library only, so the same code runs on a student's host
with the distribution's python3 and in the lab image:

    kfd       ROCm's view of the GPUs: KFD topology nodes, which of them are GPU agents, in
              which order, and which of them ROCR_VISIBLE_DEVICES / HIP_VISIBLE_DEVICES leave
    devices   the GPU device nodes (/dev/kfd, /dev/dri/renderD*, /dev/nvidia*, /dev/dxg) and
              whether a device needs a group at all
    token     the Jupyter token: generated once, stored once
    flavour   which stack is in use: cpu, nvidia or rocm

Writing files goes through labkit.atomic, and gfx names through labkit.gfx (both standard
library only too). Container-only code (the Jupyter contents manager, the probe, the
entrypoint) never gets imported from here; tests/unit/test_hostfacts_boundary.py checks that.
"""
