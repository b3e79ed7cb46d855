import sys

# The health check runs every few seconds for the life of the lab: keep it to its own
# standard-library module, without the entrypoint's imports and settings check.
if sys.argv[1:2] == ["health"]:
    from labkit.health import main

    sys.exit(main(sys.argv[2:]))

from labkit.entrypoint import main  # noqa: E402

sys.exit(main())
