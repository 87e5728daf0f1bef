"""The API's route table: each documented endpoint, its view, and what the pipeline must know about it.

Routing is werkzeug's (Flask's own router), on a map of the API's routes alone: the pipeline matches an API
request and calls its view directly, without Flask's per-request machinery, which cost more than most views.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from werkzeug.routing import Map, Rule

from mockserver.answer import Answer
from mockserver.protocol import API_PREFIX

View = Callable[..., Answer]


@dataclass(frozen=True)
class Route:
    rule: str
    methods: tuple[str, ...]
    view: View
    #: Answers without a token (API information and health, for probes and discovery).
    public: bool = False
    #: A read whose answer may be kept until the tenant's data or clock changes (api/cache.py).
    cached: bool = False

    @property
    def name(self) -> str:
        return f"{self.view.__module__.rpartition('.')[2]}.{self.view.__name__}"


class Routes:
    """One module's routes, declared with decorators beside their views."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def _add(self, rule: str, methods: tuple[str, ...], public: bool, cached: bool) -> Callable[[View], View]:
        def register(view: View) -> View:
            self.routes.append(Route(API_PREFIX + rule, methods, view, public, cached))
            return view

        return register

    def get(self, rule: str, *, public: bool = False, cached: bool = True) -> Callable[[View], View]:
        return self._add(rule, ("GET",), public, cached)

    def post(self, rule: str) -> Callable[[View], View]:
        return self._add(rule, ("POST",), False, False)

    def put(self, rule: str) -> Callable[[View], View]:
        return self._add(rule, ("PUT",), False, False)


def route_map(routes: list[Route]) -> Map:
    """The werkzeug map of the routes; its endpoints are the routes' names."""
    # As the Flask app is set up: /api/calendars/ is /api/calendars, and /api//calendars is no route at all.
    return Map(
        [MatchingRule(route.rule, endpoint=route.name, methods=route.methods) for route in routes],
        strict_slashes=False,
        merge_slashes=False,
    )


class MatchingRule(Rule):
    """A werkzeug rule whose URL builder is compiled when a URL is first built, not when the rule is added.
    Werkzeug compiles two builders per rule (Python source through ``ast`` and ``compile``): for the sandbox's
    53 rules (these and Flask's) that was most of ``create_app``, about 10 ms of every start, while a URL is
    built for two routes only (the documentation page's links). Relies on ``Rule._compile_builder``, a private
    hook of werkzeug (pinned in constraints.txt; tests/test_openapi.py builds those URLs)."""

    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., Any]:
        compiled: list[Callable[..., Any]] = []

        def build(rule: Rule, *args: Any, **kwargs: Any) -> Any:
            if not compiled:
                compiled.append(Rule._compile_builder(rule, append_unknown).__get__(rule, None))
            return compiled[0](*args, **kwargs)

        return build
