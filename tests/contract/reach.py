"""Which refusals (AppError subclasses) an operation can answer, read from the code.

From a route's endpoint and its dependencies, follow every function, class and module
attribute of ours that the code names (resolved through the module's globals, as Python would),
and collect every AppError subclass named on the way: raised, or made to be raised or handed
back. An over-estimate by design (a name on a path the route never takes counts too), so that
a refusal added deep in a service cannot go undeclared; calls through objects (`x.method()`)
are not followed."""

from __future__ import annotations

import ast
import inspect
import textwrap
import types
from collections.abc import Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from app.core.errors import AppError


def _ours(obj: Any) -> bool:
    return (getattr(obj, "__module__", None) or "").startswith("app.")


def _named(fn: Any) -> Iterator[Any]:
    """What `fn`'s source names: globals, and attributes of modules and classes it names."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return
    scope = getattr(fn, "__globals__", {})
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if node.id in scope:
                yield scope[node.id]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            base = scope.get(node.value.id)
            if isinstance(base, types.ModuleType | type):
                yield getattr(base, node.attr, None)


def refusals(start: Any, seen: set[Any] | None = None) -> set[type[AppError]]:
    """The AppError subclasses reachable from `start` (a function, class or callable)."""
    seen = set() if seen is None else seen
    found: set[type[AppError]] = set()
    pending = [start]
    while pending:
        item = pending.pop()
        if inspect.isfunction(item):
            item = inspect.unwrap(item)
        if isinstance(item, type) and issubclass(item, AppError):
            if item is not AppError:
                found.add(item)
            continue
        if isinstance(item, type):
            targets = [vars(item).get(name) for name in ("__init__", "__call__")]
        elif inspect.isfunction(item) or inspect.ismethod(item):
            targets = [item]
        elif callable(item) and not isinstance(item, types.BuiltinFunctionType):
            targets = [vars(type(item)).get("__call__")]  # a dependency instance
        else:
            continue
        for fn in targets:
            if fn is None or not _ours(fn) or fn in seen:
                continue
            seen.add(fn)
            pending.extend(_named(fn))
    return found


def _dependencies(dependant: Dependant) -> Iterator[Any]:
    for dep in dependant.dependencies:
        yield dep.call
        yield from _dependencies(dep)


def route_refusals(route: APIRoute) -> set[type[AppError]]:
    seen: set[Any] = set()
    found = refusals(route.endpoint, seen)
    for call in _dependencies(route.dependant):
        if call is not None:
            found |= refusals(call, seen)
    return found
