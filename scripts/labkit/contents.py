"""JupyterLab's file saving, made crash-safe for students' notebooks.

jupyter_server's own "atomic_writing" copies the old file aside and then rewrites the
notebook in place; if the container is killed mid-save (out of memory, power loss, `docker
kill`), the student's notebook on the host is left truncated until Jupyter next reads it and
restores the copy. Here every save goes to a temporary file that is renamed over the
notebook, so the file on disk is always a complete version. Used through
--ServerApp.contents_manager_class (see entrypoint.lab_command).
"""

from __future__ import annotations

import os
from contextlib import contextmanager

from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager

from labkit.atomic import replacing


class ReplacingFileManager(AsyncLargeFileManager):
    @contextmanager
    def atomic_writing(self, os_path, *args, **kwargs):
        directory = os.path.dirname(os_path) or "."
        if not os.access(directory, os.W_OK):
            # A writable file in a read-only folder cannot be replaced: Jupyter's in-place
            # write is the only way, and its own fallback handles it.
            with super().atomic_writing(os_path, *args, **kwargs) as stream:
                yield stream
            return
        text = kwargs.get("text", args[0] if args else True)
        with (
            self.perm_to_403(os_path),
            replacing(os_path, text=text, encoding=kwargs.get("encoding", "utf-8")) as stream,
        ):
            yield stream
