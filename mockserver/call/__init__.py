"""The request context shared by both planes: who is calling, in which format, tenant and clock, and how
its answers are built. It sits above the sandbox runtime and below the API and control planes."""

from __future__ import annotations

from mockserver.call import context
from mockserver.call.answers import fail, ok
from mockserver.call.context import Call, current_call
from mockserver.call.incoming import Incoming

__all__ = ["Call", "Incoming", "context", "current_call", "fail", "ok"]
