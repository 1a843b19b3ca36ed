"""Every message the wire layer writes into a 4xx body, in one place.

The route table's validators, the router and the body parser read their wording from
here, so one rule reads the same on every route and a wording change is one edit.
Messages about the domain (an export not ready, a run that cannot be cancelled) stay
with the rule that refuses, in ``pictograph_testing.world``.
"""

from __future__ import annotations

__all__ = [
    "BAD_JSON",
    "BASE_URL_WITH_A_PATH",
    "BODY_NOT_JSON",
    "BODY_NOT_OBJECT",
    "BODY_REQUIRED",
    "BODY_TOO_LARGE",
    "BOOL_QUERY",
    "CHOICE",
    "DOT_SEGMENT_NAME",
    "FAILED_VALIDATION",
    "HEADERS_TOO_LARGE",
    "HOST_MISSING",
    "HOST_NOT_SERVED",
    "IMAGE_EMPTY",
    "IMAGE_TOO_LARGE",
    "INT_QUERY",
    "LIST_ITEMS",
    "LIST_OF",
    "LONE_SURROGATE",
    "METHOD_NOT_ALLOWED",
    "MULTIPART_FILE_REQUIRED",
    "NON_FINITE",
    "NOTHING_TO_UPDATE",
    "NOT_A_UUID",
    "NO_ROUTE",
    "NUMBER_RANGE",
    "QUERY_DIGITS",
    "QUERY_RANGE",
    "QUERY_REQUIRED",
    "RELEASE_VALUE",
    "REQUEST_BODY",
    "SHOWN_LIMIT",
    "SLASH_IN_NAME",
    "STRING_LENGTH",
    "TARGET_TOO_LONG",
    "TOO_DEEP",
    "UNKNOWN_QUERY",
    "choices",
    "shown",
]

# ── the body as a whole ──
BODY_REQUIRED = "The request body is empty; send a JSON object."
# What the JSON refusals below speak of: a request body, or (with ``strict_json``'s
# ``subject``) a scenario file or document.
REQUEST_BODY = "The request body"
BAD_JSON = "{subject} is not valid JSON."
LONE_SURROGATE = (
    "{subject} holds text that is not valid Unicode (a lone surrogate); "
    "use text without unpaired surrogates (U+D800 to U+DFFF), in any encoding."
)
NON_FINITE = (
    "{subject} holds the number {value}; use finite numbers "
    "(no NaN or Infinity, and none beyond what a 64-bit float holds)."
)
TOO_DEEP = "{subject} nests arrays and objects deeper than {limit} levels."
BODY_NOT_OBJECT = "The request body must be a JSON object."
BODY_NOT_JSON = (
    "The request body is sent as Content-Type '{kind}'; the API reads it as JSON only: "
    "send it with Content-Type: application/json."
)
BODY_TOO_LARGE = "The request body is {size:,} bytes; the API takes at most {limit} MiB."
FAILED_VALIDATION = "The request failed validation: {errors}"
"""Missing, mistyped and unknown fields, all at once: ``loc: msg; loc: msg``."""
NOTHING_TO_UPDATE = "Nothing to update: send at least one of {fields}."

# ── one field ──
STRING_LENGTH = "'{name}' must be {bound}{blank}."
"""``bound``: ``1 to 100 characters``, ``at least 1 character`` or ``at most 500
characters``; ``blank``: `` and not blank`` for a field that refuses one."""
CHOICE = "Invalid {name} '{value}': choose one of {allowed}."
LIST_OF = "{name} must be a list of {noun}."
LIST_ITEMS = "'{name}' must hold {bound}, got {count}."
NUMBER_RANGE = "'{name}' must be {bound}, got {value}."
NOT_A_UUID = "'{value}' is not a valid {noun} id (a UUID)."
SLASH_IN_NAME = (
    "'{name}' cannot be '{value}': a dataset's name cannot hold '/', which would split it "
    "in two where it travels in a URL path. Choose a name without one."
)
DOT_SEGMENT_NAME = (
    "'{name}' cannot be '{value}': names travel in URL paths, where '.' and '..' mean "
    "this folder and its parent, so nothing named that could be looked up by name. "
    "Choose a name with other characters."
)
RELEASE_VALUE = (
    "Unknown {name} '{value}' for pictograph {version}: the API takes it from SDK "
    "releases {span} only."
)
"""A value the caller's release never knew (see ``dialects.Vocabulary``)."""

# ── uploaded files (multipart) ──
MULTIPART_FILE_REQUIRED = "Send the image as a multipart/form-data upload in the '{field}' field."
IMAGE_TOO_LARGE = (
    "The image is {size:,} bytes; hosted inference takes one image of up to {limit} MB."
)
IMAGE_EMPTY = "The uploaded image is empty."

# ── the query ──
QUERY_REQUIRED = "Query parameter '{name}' is required."
INT_QUERY = "Query parameter '{name}' must be a whole number, got '{value}'."
QUERY_RANGE = "Query parameter '{name}' must be {bound}, got {value}."
QUERY_DIGITS = (
    "Query parameter '{name}' is a whole number of {count:,} digits; send one of at most "
    "{limit} digits."
)
BOOL_QUERY = "Query parameter '{name}' must be true or false, got '{value}'."
UNKNOWN_QUERY = "Unknown query parameter(s): {names}.{hint}"

# ── the request as a whole (the offline server refuses these before routing) ──
TARGET_TOO_LONG = (
    "The request's path and query are {size:,} bytes; the API takes at most {limit:,}."
)
HEADERS_TOO_LARGE = "The request's headers are {size:,} bytes; the API takes at most {limit:,}."
HOST_MISSING = (
    "This request names no Host: send a Host header naming one of {hosts} "
    "(pictograph-fake serve --allow-host NAME adds a name)."
)
HOST_NOT_SERVED = (
    "This server does not answer to Host '{host}': it answers to {hosts} "
    "(pictograph-fake serve --allow-host NAME adds a name)."
)

# ── routing ──
NO_ROUTE = "No route {method} {path}{hint}."
BASE_URL_WITH_A_PATH = (
    " (the API's prefix '{root}' comes after '{before}': the client's base URL holds a "
    "path; give it the host alone, such as https://api.pictograph.io)"
)
"""The hint of a 404 whose path holds the API's prefix after something else."""
METHOD_NOT_ALLOWED = "The API does not serve {method} requests: its routes take {methods}{here}."
"""A method no route of the API takes (OPTIONS, TRACE, a made-up one); ``here``: what
the path itself takes, when it is a route."""


SHOWN_LIMIT = 40
"""The most characters of a sent value a message quotes back; the rest is ``...``."""


def shown(value: object) -> str:
    """A sent value as a message quotes it: its text, cut at :data:`SHOWN_LIMIT`.

    An answer repeats what was sent only to say what was wrong with it: a query value or
    number of thousands of characters needs no more than its start.
    """
    text = str(value)
    return text if len(text) <= SHOWN_LIMIT else text[:SHOWN_LIMIT] + "..."


def choices(values: tuple[str, ...]) -> str:
    """``'a', 'b', 'c'``: how a message lists the allowed values."""
    return ", ".join(f"'{v}'" for v in values)
