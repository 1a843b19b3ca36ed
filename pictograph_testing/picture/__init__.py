"""Pictures of a fake's world: the dashboard the offline server shows, and HTML reports.

:func:`~pictograph_testing.picture.view.picture_of` copies a world into plain values;
:mod:`~pictograph_testing.picture.render` draws them; :func:`write_report` writes one
self-contained HTML file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pictograph_testing.picture.render import report_document
from pictograph_testing.picture.view import picture_of

if TYPE_CHECKING:
    import os

    from pictograph_testing.fake import FakePictograph

__all__ = ["write_report"]


def write_report(
    fake: FakePictograph, path: str | os.PathLike[str], *, title: str | None = None
) -> Path:
    """Write the world of ``fake`` at this virtual instant to ``path`` as one HTML file.

    Return the path. Folders on the way are made. The same world gives the same bytes.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    heading = title or f"pictograph fake (seed {fake.seed}, {fake.profile})"
    # A lone surrogate a test put in the world (`os.fsdecode` of a name that is not
    # UTF-8) is written as its escape, not refused: a report must be written.
    document = report_document(picture_of(fake), heading)
    target.write_text(document, encoding="utf-8", errors="backslashreplace")
    return target
