"""The class hub's own logic, loaded by jupyterhub_config.py inside the hub image.

settings  HUB_* variables -> one frozen HubSettings (one line per bad value)
assign    which GPU (or the CPU) a student gets: a pure decision
plan      what the spawned container gets for that decision: image, environment, host config
holders   who holds which GPU, read from the running containers' labels
networks  one Docker network per student, with the hub on each (subnets picked here)
ledger    the JupyterHub hooks that tie these to DockerSpawner
usernames which account names the hub accepts (normalized, one DNS label)
guard     failed logins: which client waits, per client and account
accounts  NativeAuthenticator with POST-only approvals, revocation and the guard
"""
