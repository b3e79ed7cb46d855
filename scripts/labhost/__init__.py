"""The host side of the course lab: find the GPU, write .env, run plain `docker compose`.

Standard library only (python-dotenv is optional), so it runs on a student's Linux host with
the distribution's python3 and nothing else. Modules, one job each:

    facts     read the host (sysfs, /dev, /proc, /etc) under a root folder; tests pass fake trees
              (KFD, device nodes and the token through labkit.hostfacts, shared with the container)
    docker    ask the Docker CLI, through an injectable runner; parse its real outputs
    plan      decide the flavour, the AMD GPU and HSA_OVERRIDE_GFX_VERSION (pure)
    targets   the GPU targets an image supports, and where the lab read them
    rocm_bases  the ROCm bases the lab knows, their documented targets, when to recommend the newer (pure)
    checks    the doctor's checks: facts in, frozen results out (pure)
    diskneed  how much free disk a start needs, from the images the engine already holds (pure)
    envfile   read, edit and write .env without losing comments or unknown keys
    compose   the plain `docker compose` command for a flavour
    output    print check results as text (colour on a terminal) or JSON
    report    one redacted file for instructors
    verify    `scripts/lab verify`'s redacted record of a real run (evidence for docs/hardware/)
    hardware_table  docs/hardware/README.md's table, generated from those records
    wsl       what works on WSL2: the pinned images, and what the newer ROCm base would need there
    world     what a command touches (repo, host root, environment, output, Docker), swappable in tests
    survey    one look at the computer: facts + engine + plan, and the doctor's context
    commands  the `scripts/lab` commands, one module each, registered in a dict (see its docstring)
    cli       parse the command line and dispatch to a command
"""
