"""Choosing the response language from `Accept-Language` (zh-CN unless English is preferred)."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Literal

Language = Literal["zh-CN", "en"]
DEFAULT_LANGUAGE: Language = "zh-CN"


def pick_language(accept_language: str | None) -> Language:
    """The best of zh-CN and en for an `Accept-Language` header, by q-value."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    best: tuple[float, Language] | None = None
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                q = 0.0
        lang: Language | None = None
        if tag.startswith("zh"):
            lang = "zh-CN"
        elif tag.startswith("en"):
            lang = "en"
        if lang is None or q <= 0:
            continue
        # Earlier entries win ties, as browsers list them in preference order.
        score = q - position * 1e-6
        if best is None or score > best[0]:
            best = (score, lang)
    return best[1] if best else DEFAULT_LANGUAGE


# The language of the request being served, for answers (not only errors) that carry text;
# set once per request by the RequestIdMiddleware, which also learns from it whether the answer
# used it (then the answer says `Content-Language` and `Vary: Accept-Language`).
class LanguageChoice:
    __slots__ = ("lang", "used")

    def __init__(self, lang: Language) -> None:
        self.lang: Language = lang
        self.used = False


_current: ContextVar[LanguageChoice | None] = ContextVar("zhucun_language", default=None)


def current_language() -> Language:
    choice = _current.get()
    if choice is None:
        return DEFAULT_LANGUAGE
    choice.used = True  # a mutation, seen by the middleware through a copied context too
    return choice.lang


def set_language(lang: Language) -> LanguageChoice:
    choice = LanguageChoice(lang)
    _current.set(choice)
    return choice
