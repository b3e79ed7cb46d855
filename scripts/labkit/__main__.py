import sys

from labkit.entrypoint import main

sys.exit(main())
