"""What every control view reads the same way: its JSON body, its tenant, its query arguments.

Who may reach which tenant is ``mockserver.tenancy``'s rule (docs/control-api.md#scope); ``target`` applies
it to the caller's identity and the ``tenant`` field of the body or query.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver import args, jsonbody, tenancy
from mockserver.call import current_call
from mockserver.errors import InvalidJson, InvalidParameter
from mockserver.sandbox import Sandbox


def sandbox() -> Sandbox:
    return current_call().sandbox


def body(allowed: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The JSON object of a control write ({} when empty); ``allowed`` names its fields, others are refused."""
    raw = current_call().incoming.body()
    if not raw.strip():
        return {}
    value = jsonbody.parse(raw)
    if not isinstance(value, dict):
        raise InvalidJson(f"The control API takes a JSON object as body, got {jsonbody.describe(value)}")
    if allowed is not None:
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            raise InvalidParameter(
                f"Unknown field {unknown[0]!r} (known: {', '.join(allowed)})", details={"field": unknown[0]}
            )
    return value


def target(fields: Mapping[str, Any] | None = None) -> str | None:
    """The tenant an operation is scoped to, or None for the whole server (tenancy.control_target)."""
    call = current_call()
    raw = (fields or {}).get("tenant", call.args.get("tenant"))
    if raw is not None and not isinstance(raw, str):
        raise InvalidParameter("tenant must be a string such as 'sandbox/w1' or 'w1'", details={"field": "tenant"})
    runtime = call.sandbox
    return tenancy.control_target(
        call.identity,
        raw or None,
        known_spaces=runtime.accounts.by_id,
        default_space=runtime.accounts.default.account_id,
        server_wide=runtime.config.server_wide_control,
    )


def one_tenant(fields: Mapping[str, Any] | None = None) -> str:
    """A tenant-scoped operation's tenant: the default account's default tenant when none is named."""
    return target(fields) or sandbox().default_tenant


def flag(fields: Mapping[str, Any], name: str, default: bool = False) -> bool:
    """A boolean field of a JSON body."""
    return args.boolean(name, fields.get(name, default), field="field")


def query_int(name: str, default: int, low: int, high: int) -> int:
    """An integer query argument, ``default`` when absent or empty."""
    raw = current_call().args.get(name)
    if raw is None or raw == "":
        return default
    return args.integer(name, raw, minimum=low, maximum=high)
