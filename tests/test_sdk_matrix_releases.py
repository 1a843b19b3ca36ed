"""The version matrix runs every release where a declared span of releases begins or ends.

``scripts/sdk_matrix.sh`` runs ``tests/matrix`` against its ``DEFAULT_VERSIONS`` (CI does),
and ``tests/matrix`` reads each expectation from the declarations. A span is checked
exactly only when the matrix runs its first release and the first release after it: a
span declared to start a release too late, or to end one too early, passes on releases
further away. The spans are read from the route table, the vocabularies and
``dialects.SDK_DEFECTS``, so a new declaration asks for its releases here.
"""

from __future__ import annotations

import re
from pathlib import Path

from pictograph_testing.api.dialects import (
    EVALUATED_TYPES_BY_RELEASE,
    OLDEST,
    SDK_DEFECTS,
    Span,
    Version,
    format_version,
    parse_version,
)
from pictograph_testing.api.resources import ENDPOINTS

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "sdk_matrix.sh"


def _default_versions() -> set[Version]:
    found = re.search(r"^DEFAULT_VERSIONS=\(([^)]*)\)", SCRIPT.read_text(), re.MULTILINE)
    assert found is not None, "scripts/sdk_matrix.sh declares no DEFAULT_VERSIONS"
    return {parse_version(version) for version in found.group(1).split()}


def _declared_spans() -> set[Span]:
    spans: set[Span] = {defect.span for defect in SDK_DEFECTS}
    spans.update(EVALUATED_TYPES_BY_RELEASE.values())
    for endpoint in ENDPOINTS:
        spans.add(endpoint.span)
        spans.update(wire.span for wire in endpoint.wires)
        spans.update(span for _, span in endpoint.aliases)
        for vocabulary in endpoint.values:
            spans.update(vocabulary.spans.values())
            spans.update(vocabulary.parsed.values())
    return spans


def _boundaries(span: Span) -> set[Version]:
    """The span's first release and the first release after it (where either is one)."""
    return {v for v in (span.since, span.until) if v is not None and v != OLDEST}


def test_the_matrix_runs_the_releases_where_each_span_begins_and_ends() -> None:
    default = _default_versions()
    missing = {
        format_version(version): str(span)
        for span in _declared_spans()
        for version in _boundaries(span)
        if version not in default
    }
    assert missing == {}, f"add to DEFAULT_VERSIONS in scripts/sdk_matrix.sh: {missing}"


def test_the_spans_are_read_from_every_kind_of_declaration() -> None:
    # A guard on the guard: routes, their wires and aliases, values, and defects all count.
    bounds = {v for span in _declared_spans() for v in _boundaries(span)}
    assert {
        parse_version("1.61.0"),  # envelopes (wires) and /projects/ (aliases)
        parse_version("1.69.44"),  # by-name paths end (a route's span)
        parse_version("1.45.0"),  # datumaro (a value)
        parse_version("1.69.79"),  # images by id (a defect)
        parse_version("1.69.73"),  # classification evaluations
    } <= bounds
