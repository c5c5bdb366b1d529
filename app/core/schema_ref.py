"""A field documented as another component schema while taking any JSON at run time.

Pydantic cannot emit a `$ref` to a schema it did not generate, so the field carries a marker
that the OpenAPI post-processing (app/contract.py) turns into the reference.
"""

from __future__ import annotations

from pydantic import WithJsonSchema

MARKER = "x-zhucun-schema"


def documented_as(component: str) -> WithJsonSchema:
    return WithJsonSchema({MARKER: component})
