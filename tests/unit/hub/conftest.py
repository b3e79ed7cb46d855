"""The class hub's package (deploy/hub/courselab_hub) is tested as plain Python: its
decisions need neither JupyterHub nor Docker."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "deploy" / "hub"))
