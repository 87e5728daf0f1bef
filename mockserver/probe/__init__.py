"""``tap4book-mock probe``: compare the sandbox with a real TAP4BOOK API, point by point.

A client tool: it talks HTTP to both sides and never imports the server. One run flows one way:
``cli`` (flags, credentials) -> ``session`` (preflight, the sandbox, the token check, writes) -> ``script``
(the fixed ``calls``) sent by each ``side`` (with the ids of its own ``discovery``) over ``fetch`` (spacing,
timeouts, budgets) -> ``shapes`` (what a body looks like, per format) -> ``compare`` and ``consistency``
(the differences; its rules are written with ``rulebook`` in the ``rules_*`` modules) -> ``report`` (the
table and the JSON report). ``spawn`` starts a local sandbox; ``sections`` names the parts of
docs/interpretation.md and docs/formats.md a difference touches.
"""

from __future__ import annotations
