# The lab's Jupyter server settings for every user (read from sys.prefix/etc/jupyter, the lab
# venv), in lab and hub mode alike.
c = get_config()  # noqa: F821 - Jupyter's config loader provides it

# Terminals: bash, without jupyter_server's default `-l`. A login shell reads /etc/profile,
# which on Debian and Ubuntu resets PATH for every non-root user, so a terminal lost the lab
# venv: no `python`, `jupyter` or the lab's `pip` guard, and the system pip instead
# (measured in the image: `sh -l` gives PATH=/usr/local/bin:/usr/bin:/bin:...). Without `-l`
# the terminal keeps the environment the image and compose set.
c.ServerApp.terminado_settings = {"shell_command": ["/bin/bash"]}
