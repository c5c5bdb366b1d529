"""A value documented as a component schema while taken or answered as plain JSON at run time.

Some values are passed on exactly as they were stored or signed (a receipt's query, an action's
payload: re-validating them could reorder or fill in what a signature covers), and some are
validated one item at a time (a batch's items). Pydantic cannot emit a `$ref` to a schema it did
not generate, so such a field carries a marker that the OpenAPI post-processing (app/contract.py)
turns into the reference; a model named here is added to the document's components.
"""

from __future__ import annotations

from typing import Any

from pydantic import WithJsonSchema

MARKER = "x-zhucun-schema"

_TYPES: dict[str, Any] = {}


def documented_as(component: str | type) -> WithJsonSchema:
    """A field's schema: the component `component` (a name, or a model or TypedDict it is
    made from)."""
    return WithJsonSchema(schema_ref(component))


def schema_ref(component: str | type) -> dict[str, Any]:
    """The marker for `component`, for a schema written by hand (a route's `responses`)."""
    if isinstance(component, str):
        return {MARKER: component}
    known = _TYPES.setdefault(component.__name__, component)
    if known is not component:
        raise ValueError(f"two types named {component.__name__} documented")
    return {MARKER: component.__name__}


def documented_types() -> dict[str, Any]:
    """The types named by `documented_as` / `schema_ref`, by name, for the components."""
    return dict(_TYPES)
