# The lab's Jupyter server settings for every user (read from sys.prefix/etc/jupyter, the lab
# venv), in lab and hub mode alike.
c = get_config()  # noqa: F821 - Jupyter's config loader provides it

# Terminals: bash, without jupyter_server's default `-l`. A login shell reads /etc/profile,
# which on Debian and Ubuntu resets PATH for every non-root user, so a terminal lost the lab
# venv: no `python`, `jupyter` or the lab's `pip` guard, and the system pip instead
# (measured in the image: `sh -l` gives PATH=/usr/local/bin:/usr/bin:/bin:...). Without `-l`
# the terminal keeps the environment the image and compose set.
c.ServerApp.terminado_settings = {"shell_command": ["/bin/bash"]}

# No token in any log line (labkit/redact.py says why): a filter on the server's log handler,
# which also writes tornado's lines ("Uncaught exception GET /...?token=...") and the
# extensions'. Merged into traitlets' own logging setup, so the handler and its format stay.
c.ServerApp.logging_config = {
    "filters": {"redact_tokens": {"()": "labkit.redact.TokenFilter"}},
    "handlers": {"console": {"filters": ["redact_tokens"]}},
}
