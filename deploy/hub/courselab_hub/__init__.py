"""The class hub's own logic, loaded by jupyterhub_config.py inside the hub image.

settings  HUB_* variables -> one frozen HubSettings (one line per bad value)
assign    which GPU (or the CPU) a student gets: a pure decision
plan      what the spawned container gets for that decision: image, environment, host config
holders   who holds which GPU, read from the running containers' labels
ledger    the JupyterHub hooks that tie these to DockerSpawner
"""
