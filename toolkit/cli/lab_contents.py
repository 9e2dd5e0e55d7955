"""The file manager of ``cjm lab``'s JupyterLab: only the lab workspace is writable.

The lab is rooted at the run folder ``<out>`` so that the workspace (``lab/``), the executed
notebooks of the run (``notebooks/``) and the source notebooks (``lab/sources``, a link to
the toolkit's ``notebooks/``) can all be opened. Saving, renaming, deleting or creating is
allowed under ``lab/`` only, never in ``lab/sources`` nor in the run's official outputs;
everything else opens read-only (JupyterLab shows it so and does not autosave it).
"""

from __future__ import annotations

from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from tornado.web import HTTPError

WORKSPACE = "lab"
SOURCES = "lab/sources"
MESSAGE = ("{path} is read-only in cjm lab: the lab writes only in its workspace lab/ "
           "(the source notebooks and the run's outputs never change); use File > Save As into lab/.")


def writable_path(path: str) -> bool:
    p = path.strip("/")
    inside = p == WORKSPACE or p.startswith(WORKSPACE + "/")
    source = p == SOURCES or p.startswith(SOURCES + "/")
    return inside and not source


class LabContentsManager(AsyncLargeFileManager):
    """``AsyncLargeFileManager`` that refuses writes outside ``lab/`` (module docstring)."""

    def _refuse(self, path: str) -> None:
        if not writable_path(path):
            raise HTTPError(403, MESSAGE.format(path=path or "/"))

    async def get(self, path, content=True, type=None, format=None, require_hash=False):
        model = await super().get(path, content=content, type=type, format=format, require_hash=require_hash)
        if not writable_path(path):
            model["writable"] = False
            for child in model.get("content") or [] if model.get("type") == "directory" else []:
                if isinstance(child, dict) and not writable_path(child.get("path", "")):
                    child["writable"] = False
        return model

    async def save(self, model, path=""):
        self._refuse(path)
        return await super().save(model, path)

    async def delete_file(self, path):
        self._refuse(path)
        return await super().delete_file(path)

    async def rename_file(self, old_path, new_path):
        self._refuse(old_path)
        self._refuse(new_path)
        return await super().rename_file(old_path, new_path)
