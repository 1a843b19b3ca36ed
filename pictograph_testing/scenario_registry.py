"""The folders scenario names are looked up in, registered for the process.

Kept apart from :mod:`pictograph_testing.scenarios` (which re-exports it) so the pytest
plugin can register the ini's ``pictograph_scenario_dirs`` when pytest configures,
without importing the world a scenario is read into: a run that never uses the fake
does not pay for it (tests/test_plugin_load.py holds the plugin to that).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import os

__all__ = ["register_dir", "registered_dirs", "scenario_folder", "unregister_dir"]

_registered: list[Path] = []
"""The user's folders, registered for the process: searched after a call's own."""


def registered_dirs() -> tuple[Path, ...]:
    """The registered folders, in the order registered."""
    return tuple(_registered)


def register_dir(path: str | os.PathLike[str]) -> Path:
    """Make the scenarios in folder ``path`` loadable by name, for the rest of the process.

    Names then work everywhere in the process: ``FakePictograph(scenario="my-world")``,
    the plugin's marker and ini option, ``FakeServer`` and its ``POST /_fake/snapshot``.
    A relative ``path`` is read from the current directory, now; the folder must exist.
    Folders are searched in the order registered, after a call's own ``scenario_dirs``
    and before the package's. Registering a folder twice keeps one entry. Returns the
    folder, absolute, for :func:`unregister_dir`.
    """
    folder = scenario_folder(path)
    if folder not in _registered:
        _registered.append(folder)
    return folder


def scenario_folder(path: str | os.PathLike[str]) -> Path:
    """The user's scenario folder ``path``, absolute; a ``ValueError`` if it is not a folder.

    A relative ``path`` is read from the current directory. Every folder a user names
    (``register_dir``, ``scenario_dirs=``, ``--scenario-dir``) is checked here: one that
    is missing would otherwise be searched in silence and the scenario not found.
    """
    folder = Path(path).expanduser().resolve()
    if not folder.is_dir():
        what = "a file, not a folder" if folder.exists() else "nothing there"
        raise ValueError(f"no scenario folder at {folder} ({what})")
    return folder


def unregister_dir(path: str | os.PathLike[str]) -> None:
    """Forget a folder :func:`register_dir` registered; one never registered is ignored."""
    folder = Path(path).expanduser().resolve()
    if folder in _registered:
        _registered.remove(folder)
