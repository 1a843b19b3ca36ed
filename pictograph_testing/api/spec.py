"""Request specs: what a route takes, declared once, checked and documented from one object.

A route's body is an :class:`Obj` of :class:`Field` s and its query a tuple of
:class:`Param` s. Each spec does two jobs: :meth:`Spec.schema` writes its JSON Schema
for the OpenAPI document, and the checks below refuse what it does not allow with the
API's 422 (FastAPI-shaped field errors, messages from :mod:`.messages`). Checking runs
in two passes, as the API's validation does: first shape (missing, mistyped and unknown
fields, reported together), then each field's constraints in declaration order (the
first broken one is reported with a message that says what to send).
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pictograph_testing.api import messages
from pictograph_testing.bounds import MAX_NUMBER_DIGITS
from pictograph_testing.catalog import NAME_LIMIT
from pictograph_testing.wording import counted
from pictograph_testing.world.errors import InvalidRequest, describe, field_error

if TYPE_CHECKING:
    from pictograph_testing.world.errors import FieldError

__all__ = [
    "DOT_SEGMENTS",
    "EXAMPLE_DATASET",
    "EXAMPLE_EXPORT",
    "ID_LIST",
    "NAME",
    "NAME_LIMIT",
    "Bool",
    "Field",
    "Int",
    "Json",
    "List",
    "Num",
    "Obj",
    "Param",
    "Spec",
    "Str",
    "check_body",
    "check_query",
]

# Examples name the `ready-to-train` scenario's world, so a schemathesis run against a
# server started with it reaches the routes' success paths, not only their 404s.
EXAMPLE_DATASET = "road-signs"
EXAMPLE_EXPORT = "road-signs-v1"

Loc = tuple[str | int, ...]
Schema = dict[str, Any]
DOT_SEGMENTS = (".", "..")
"""The path segments a URL resolves away (RFC 3986, 5.2.4): no name can be one."""
_INTEGER = re.compile(r"[+-]?[0-9]+")
_TYPE_NAMES = {
    str: "a valid string",
    int: "a valid integer",
    float: "a valid number",
    dict: "a valid dictionary",
    list: "a valid list",
    bool: "a valid boolean",
}


class Spec:
    """One value's type and constraints."""

    kinds: ClassVar[tuple[type, ...]] = ()
    """The Python types a JSON value of this spec may have (checked in the shape pass)."""

    def schema(self) -> Schema:
        raise NotImplementedError

    def constraint(self, name: str, value: Any, loc: Loc) -> InvalidRequest | None:
        """The refusal for a well-typed value that breaks a constraint, else ``None``."""
        return None

    def parse(self, name: str, text: str) -> Any:
        """Read a query string as this spec's value (422 when it is not one)."""
        return text

    def type_message(self) -> str:
        return "Input should be " + " or ".join(_TYPE_NAMES[k] for k in self.kinds)


def _is(value: Any, kinds: tuple[type, ...]) -> bool:
    if isinstance(value, bool):
        return bool in kinds
    return isinstance(value, kinds)


@dataclass(frozen=True)
class Str(Spec):
    """A string: length, an enumeration, a format (``uuid``, ``date-time``)."""

    min_length: int | None = None
    max_length: int | None = None
    not_blank: bool = False
    segment: bool = False
    """True: the value travels as one segment of a URL path (a name the SDK looks things
    up by), so ``.`` and ``..``, which a client resolves away as this folder and its
    parent before the request is sent, are refused."""
    enum: tuple[str, ...] | None = None
    enforced: bool = True
    """False: the world enforces the enumeration (it depends on the world's profile, and
    the document lists every profile's values)."""
    format: str | None = None
    example: str | None = None
    description: str | None = None
    status: int = 422
    """The status a broken constraint is refused with: 422 as the API's validation answers,
    400 where a route checks the value itself."""
    kinds: ClassVar[tuple[type, ...]] = (str,)

    def schema(self) -> Schema:
        schema: Schema = {"type": "string"}
        if self.enum is not None:
            schema["enum"] = list(self.enum)
        if self.min_length is not None:
            schema["minLength"] = self.min_length
        if self.max_length is not None:
            schema["maxLength"] = self.max_length
        if self.not_blank:
            schema["pattern"] = r"\S"
        if self.segment:
            schema["not"] = {"enum": list(DOT_SEGMENTS)}
        if self.format is not None:
            schema["format"] = self.format
        if self.example is not None:
            schema["example"] = self.example
        if self.description is not None:
            schema["description"] = self.description
        return schema

    def constraint(self, name: str, value: Any, loc: Loc) -> InvalidRequest | None:
        low, high = self.min_length, self.max_length
        if (low is not None and len(value) < low) or (high is not None and len(value) > high):
            return self._length(name, loc)
        if self.not_blank and not value.strip():
            return self._length(name, loc)
        if self.segment and value in DOT_SEGMENTS:
            return InvalidRequest(
                messages.DOT_SEGMENT_NAME.format(name=name, value=value),
                status=self.status,
                errors=[
                    field_error(
                        loc, f"Value must not be {messages.choices(DOT_SEGMENTS)}", "value_error"
                    )
                ],
            )
        if self.enum is not None and self.enforced and value not in self.enum:
            allowed = messages.choices(self.enum)
            return InvalidRequest(
                messages.CHOICE.format(name=name, value=messages.shown(value), allowed=allowed),
                status=self.status,
                errors=[field_error(loc, f"Input should be {allowed}", "literal_error")],
            )
        if self.format == "uuid" and not _is_uuid(value):
            return InvalidRequest(
                messages.NOT_A_UUID.format(
                    value=messages.shown(value), noun=name.removesuffix("_id")
                ),
                status=self.status,
                errors=[field_error(loc, "Input should be a valid UUID", "uuid_parsing")],
            )
        return None

    def _length(self, name: str, loc: Loc) -> InvalidRequest:
        low, high = self.min_length, self.max_length
        if high is None:
            # Only a floor: an empty (or blank) value is what falls short of it.
            low = max(low or 0, 1)
            bound = f"at least {counted(low, 'character')}"
        elif low:
            bound = f"{low} to {high} characters"
        else:
            bound = f"at most {high} characters"
        blank = " and not blank" if self.not_blank else ""
        return InvalidRequest(
            messages.STRING_LENGTH.format(name=name, bound=bound, blank=blank),
            status=self.status,
            errors=[field_error(loc, f"String should have {bound}", "string_length")],
        )

    def parse(self, name: str, text: str) -> Any:
        problem = self.constraint(name, text, ("query", name))
        if problem is not None:
            if self.enum is not None and problem.errors[0]["type"] == "literal_error":
                allowed = messages.choices(self.enum)
                raise InvalidRequest(
                    messages.CHOICE.format(name=name, value=messages.shown(text), allowed=allowed),
                    status=self.status,
                    errors=[
                        field_error(("query", name), f"Input should be {allowed}", "literal_error")
                    ],
                )
            raise problem
        return text


NAME = Str(min_length=1, max_length=NAME_LIMIT, not_blank=True, segment=True)
"""Such a name: 1 to :data:`NAME_LIMIT` characters, not blank, not ``.`` or ``..``
(the SDK puts names in URL paths)."""


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _bound(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"between {low} and {high}"
    if low is not None:
        return f"at least {low}"
    return f"at most {high}"


def _out_of_range(
    name: str, value: float, loc: Loc, minimum: float | None, maximum: float | None
) -> InvalidRequest | None:
    """The refusal for a number outside its bounds (or not finite), else ``None``."""
    # Only floats can be infinite; a huge JSON integer must not be turned into one.
    finite = not isinstance(value, float) or math.isfinite(value)
    if finite and (minimum is None or value >= minimum) and (maximum is None or value <= maximum):
        return None
    bound = _bound(minimum, maximum)
    template = messages.QUERY_RANGE if loc[0] == "query" else messages.NUMBER_RANGE
    return InvalidRequest(
        template.format(name=name, bound=bound, value=messages.shown(value)),
        errors=[field_error(loc, f"Input should be {bound}", "range_error")],
    )


@dataclass(frozen=True)
class Int(Spec):
    """An integer (never a boolean) with optional bounds; ``cap`` is a silent ceiling."""

    minimum: int | None = None
    maximum: int | None = None
    cap: int | None = None
    """Larger values are taken as ``cap`` (as the API does for page sizes), not refused."""
    example: int | None = None
    kinds: ClassVar[tuple[type, ...]] = (int,)

    def schema(self) -> Schema:
        schema: Schema = {"type": "integer"}
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        if self.cap is not None:
            schema["description"] = f"Values above {self.cap} are taken as {self.cap}."
        if self.example is not None:
            schema["example"] = self.example
        return schema

    def constraint(self, name: str, value: Any, loc: Loc) -> InvalidRequest | None:
        return _out_of_range(name, value, loc, self.minimum, self.maximum)

    def parse(self, name: str, text: str) -> Any:
        # ASCII digits only: int() would also take '1_000', ' 7' and other scripts' digits.
        if not _INTEGER.fullmatch(text):
            raise InvalidRequest(
                messages.INT_QUERY.format(name=name, value=messages.shown(text)),
                errors=[
                    field_error(("query", name), "Input should be a valid integer", "int_parsing")
                ],
            )
        sign, digits = (text[0], text[1:]) if text[0] in "+-" else ("", text)
        digits = digits.lstrip("0") or "0"
        if len(digits) > MAX_NUMBER_DIGITS:
            # Refused for its length before int() reads it: int() raises past 4,300 digits.
            raise InvalidRequest(
                messages.QUERY_DIGITS.format(name=name, count=len(digits), limit=MAX_NUMBER_DIGITS),
                errors=[
                    field_error(
                        ("query", name),
                        f"Input should have at most {MAX_NUMBER_DIGITS} digits",
                        "range_error",
                    )
                ],
            )
        number = int(sign + digits)
        problem = self.constraint(name, number, ("query", name))
        if problem is not None:
            raise problem
        return number if self.cap is None else min(number, self.cap)


@dataclass(frozen=True)
class Num(Spec):
    """A finite number (integer or float, never a boolean) with optional bounds."""

    minimum: float | None = None
    maximum: float | None = None
    kinds: ClassVar[tuple[type, ...]] = (int, float)

    def schema(self) -> Schema:
        schema: Schema = {"type": "number"}
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        return schema

    def constraint(self, name: str, value: Any, loc: Loc) -> InvalidRequest | None:
        return _out_of_range(name, value, loc, self.minimum, self.maximum)

    def parse(self, name: str, text: str) -> Any:
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        problem = self.constraint(name, number, ("query", name))
        if problem is not None:
            bound = _bound(self.minimum, self.maximum)
            raise InvalidRequest(
                messages.QUERY_RANGE.format(
                    name=name, bound=bound, value=f"'{messages.shown(text)}'"
                ),
                errors=problem.errors,
            )
        return number


@dataclass(frozen=True)
class Bool(Spec):
    """A boolean; in a query, ``true``/``false`` or ``1``/``0`` (any case)."""

    kinds: ClassVar[tuple[type, ...]] = (bool,)

    def schema(self) -> Schema:
        return {"type": "boolean"}

    def parse(self, name: str, text: str) -> Any:
        lowered = text.lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise InvalidRequest(
            messages.BOOL_QUERY.format(name=name, value=messages.shown(text)),
            errors=[
                field_error(("query", name), "Input should be a valid boolean", "bool_parsing")
            ],
        )


@dataclass(frozen=True)
class List(Spec):
    """A list of ``items``, with optional bounds on its length."""

    items: Spec | None = None
    min_items: int | None = None
    max_items: int | None = None
    noun: str = "values"
    """How a message names the items: ``run_ids must be a list of {noun}``."""
    kinds: ClassVar[tuple[type, ...]] = (list,)

    def schema(self) -> Schema:
        schema: Schema = {"type": "array", "items": self.items.schema() if self.items else {}}
        if self.min_items is not None:
            schema["minItems"] = self.min_items
        if self.max_items is not None:
            schema["maxItems"] = self.max_items
        return schema

    def parse_all(self, name: str, texts: list[str]) -> list[Any]:
        """Read a repeated query parameter (``objects=car&objects=bus``) as a list, each
        value as an item; 422 for a bad item or a count out of bounds."""
        values = [self.items.parse(name, text) for text in texts] if self.items else texts
        problem = self.constraint(name, values, ("query", name))
        if problem is not None:
            raise problem
        return values

    def constraint(self, name: str, value: Any, loc: Loc) -> InvalidRequest | None:
        count = len(value)
        low, high = self.min_items, self.max_items
        if (low is not None and count < low) or (high is not None and count > high):
            if low is not None and high is not None:
                bound = f"{low} to {high} items"
            elif low is not None:
                bound = f"at least {counted(low, 'item')}"
            else:
                bound = f"at most {high} items"
            kind = "too_short" if low is not None and count < low else "too_long"
            return InvalidRequest(
                messages.LIST_ITEMS.format(name=name, bound=bound, count=count),
                errors=[field_error(loc, f"List should have {bound}", kind)],
            )
        items = self.items
        if items is None:
            return None
        if isinstance(items, Obj):
            errors: list[FieldError] = []
            for i, item in enumerate(value):
                errors.extend(items.shape_errors(item, (*loc, i)))
            if errors:
                return _failed(errors)
            for i, item in enumerate(value):
                problem = items.constraint(name, item, (*loc, i))
                if problem is not None:
                    return problem
            return None
        for i, item in enumerate(value):
            if not _is(item, items.kinds) or items.constraint(name, item, (*loc, i)) is not None:
                return InvalidRequest(
                    messages.LIST_OF.format(name=name, noun=self.noun),
                    errors=[
                        field_error(loc, f"Input should be a list of {self.noun}", "list_type")
                    ],
                )
        return None


@dataclass(frozen=True)
class Json(Spec):
    """Any JSON value of the given kinds, checked further by the world (documented here)."""

    doc: Schema = field(default_factory=dict)
    accepts: tuple[type, ...] = (dict,)

    @property
    def kinds(self) -> tuple[type, ...]:  # type: ignore[override]
        # No kinds: any JSON value reaches the world, which says what is wrong with it.
        return self.accepts or (object,)

    def schema(self) -> Schema:
        return dict(self.doc)


@dataclass(frozen=True)
class Field:
    """One body field: its spec, whether it must be sent, whether ``null`` is taken."""

    spec: Spec
    required: bool = False
    nullable: bool | None = None
    """Whether ``null`` is accepted; by default optional fields take it, required don't."""

    @property
    def takes_null(self) -> bool:
        return (not self.required) if self.nullable is None else self.nullable


@dataclass(frozen=True)
class Obj(Spec):
    """A JSON object of named fields; unknown keys are refused unless ``extra`` is set."""

    fields: dict[str, Field] = field(default_factory=dict)
    extra: bool = False
    at_least_one: Literal["", "key", "value"] = ""
    """Refuse a no-op update: ``key``, an object with no field; ``value``, one whose
    fields are all missing or null."""
    kinds: ClassVar[tuple[type, ...]] = (dict,)

    def schema(self) -> Schema:
        properties: Schema = {}
        for name, f in self.fields.items():
            schema = f.spec.schema()
            if f.takes_null:
                schema = {"anyOf": [schema, {"type": "null"}]}
            properties[name] = schema
        schema = {"type": "object", "properties": properties}
        required = [name for name, f in self.fields.items() if f.required]
        if required:
            schema["required"] = required
        if not self.extra:
            schema["additionalProperties"] = False
        if self.at_least_one:
            schema["minProperties"] = 1
        return schema

    def shape_errors(self, value: Any, loc: Loc) -> list[FieldError]:
        """Missing, mistyped and unknown fields, as FastAPI reports them."""
        if not isinstance(value, dict):
            return [field_error(loc, "Input should be a valid dictionary", "dict_type")]
        errors: list[FieldError] = []
        for name, f in self.fields.items():
            if name not in value:
                if f.required:
                    errors.append(field_error((*loc, name), "Field required", "missing"))
                continue
            item = value[name]
            if item is None and f.takes_null:
                continue
            if not _is(item, f.spec.kinds):
                errors.append(field_error((*loc, name), f.spec.type_message(), "type_error"))
            elif isinstance(f.spec, Obj):
                errors.extend(f.spec.shape_errors(item, (*loc, name)))
        if not self.extra:
            for name in value:
                if name not in self.fields:
                    errors.append(
                        field_error(
                            (*loc, name), "Extra inputs are not permitted", "extra_forbidden"
                        )
                    )
        return errors

    def constraint(self, name: str, value: Any, loc: Loc) -> InvalidRequest | None:
        if (self.at_least_one == "key" and not value) or (
            self.at_least_one == "value" and all(value.get(n) is None for n in self.fields)
        ):
            return InvalidRequest(
                messages.NOTHING_TO_UPDATE.format(fields=", ".join(self.fields)),
                errors=[field_error(loc, "At least one field is required", "missing")],
            )
        for field_name, f in self.fields.items():
            item = value.get(field_name)
            if item is None:
                continue
            problem = f.spec.constraint(field_name, item, (*loc, field_name))
            if problem is not None:
                return problem
        return None


def _failed(errors: list[FieldError]) -> InvalidRequest:
    return InvalidRequest(
        messages.FAILED_VALIDATION.format(errors=describe(errors)),
        errors=errors,
    )


def check_body(spec: Obj, body: Any) -> None:
    """Refuse (422) a parsed body that the route's spec does not allow."""
    errors = spec.shape_errors(body, ("body",))
    if errors:
        raise _failed(errors)
    problem = spec.constraint("body", body, ("body",))
    if problem is not None:
        raise problem


@dataclass(frozen=True)
class Param:
    """One query parameter: its spec, whether it is required, its default."""

    name: str
    spec: Spec
    required: bool = False
    default: Any = None
    description: str | None = None


def check_query(
    params: tuple[Param, ...], query: dict[str, list[str]], *, closed: bool, hint: str = ""
) -> dict[str, Any]:
    """Read the declared parameters (the last value of each wins, but a :class:`List`
    one takes every value sent); refuse bad ones.

    With ``closed``, a parameter the route does not declare is refused too.
    """
    if closed:
        declared = {p.name for p in params}
        unknown = sorted(set(query) - declared)
        if unknown:
            raise InvalidRequest(
                messages.UNKNOWN_QUERY.format(names=", ".join(unknown), hint=hint),
                errors=[
                    field_error(("query", n), "Extra inputs are not permitted", "extra_forbidden")
                    for n in unknown
                ],
            )
    values: dict[str, Any] = {}
    for param in params:
        sent = query.get(param.name)
        if not sent or (param.required and not sent[-1]):
            if param.required:
                raise InvalidRequest(
                    messages.QUERY_REQUIRED.format(name=param.name),
                    errors=[field_error(("query", param.name), "Field required", "missing")],
                )
            values[param.name] = param.default
            continue
        if isinstance(param.spec, List):
            values[param.name] = param.spec.parse_all(param.name, sent)
        else:
            values[param.name] = param.spec.parse(param.name, sent[-1])
    return values


def ID_LIST(noun: str, *, at_least: int | None = None) -> List:
    """A list of id strings, as every bulk route takes (``noun``: how a message names them)."""
    return List(Str(), min_items=at_least, noun=noun)
