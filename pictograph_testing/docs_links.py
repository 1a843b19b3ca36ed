"""Where the documentation is read: messages link to its pages by their address.

A wheel ships no ``docs/`` folder, so an error that names ``docs/faults.md`` points a
user at nothing; the site (``mkdocs.yml``'s ``site_url``, which a test keeps equal to
:data:`DOCS_URL`) has every page at ``<site>/<page>/``.
"""

from __future__ import annotations

__all__ = ["DOCS_URL", "page"]

DOCS_URL = "https://pictograph-testing.github.io/pictograph-testing/"
"""The documentation site, as ``mkdocs.yml`` publishes it."""


def page(name: str) -> str:
    """The address of the docs page ``name`` (``"faults"`` for ``docs/faults.md``)."""
    return f"{DOCS_URL}{name}/"
