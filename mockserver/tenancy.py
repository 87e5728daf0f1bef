"""Tenant naming, and the one rule of who may reach which tenant.

A tenant is ``<space>/<name>``: the space is the account id of the caller's token, or ``debug`` for debug
mode; the name is ``default`` unless the request picks one with ``X-Mock-Tenant``. The rule this module
holds, for the API and the control API alike: **a request never leaves its credentials' space, and a
request whose credentials do not authenticate reaches nothing.** Only a control call that carries no
credentials at all may act on the whole server (docs/control-api.md#scope), and a server can forbid even
that (``--no-server-wide-control``).

Pure functions over plain values (no Flask): the request context gathers the inputs, this module decides.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from mockserver.errors import ApiError, InvalidParameter
from mockserver.protocol import TENANT_HEADER

DEBUG_SPACE = "debug"
DEFAULT_NAME = "default"
#: 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit; matched whole (no trailing newline).
TENANT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
NAME_RULE = "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"


def tenant_id(space: str, name: str | None = None) -> str:
    return f"{space}/{name or DEFAULT_NAME}"


def space_of(tenant: str) -> str:
    return tenant.partition("/")[0]


def valid_name(name: str) -> bool:
    return TENANT_NAME.fullmatch(name) is not None


def bad_name(name: str, source: str = TENANT_HEADER) -> InvalidParameter:
    return InvalidParameter(f"{source} must be {NAME_RULE}, got {name!r}", details={"field": source})


def check_name(name: str, source: str = TENANT_HEADER) -> str:
    if not valid_name(name):
        raise bad_name(name, source)
    return name


@dataclass(frozen=True)
class Identity:
    """Who a request says it is: a space it authenticated into, or the reason its credentials failed.

    ``space`` None and ``refused`` None: the request carried no credentials at all (no token, no debug).
    """

    space: str | None = None
    refused: ApiError | None = None
    header_name: str | None = None

    @property
    def anonymous(self) -> bool:
        return self.space is None and self.refused is None


def api_tenant(identity: Identity, default_space: str) -> str:
    """The tenant whose data, clock and rules an API call uses.

    A call that did not authenticate is refused before any data is read, except the public endpoints
    (information, health), which answer from the default account's tenant of that name.
    """
    return tenant_id(identity.space or default_space, identity.header_name)


def control_target(
    identity: Identity,
    explicit: str | None,
    *,
    known_spaces: Collection[str],
    default_space: str,
    server_wide: bool = True,
) -> str | None:
    """The tenant a control call acts on, or None for the whole server.

    ``explicit`` is the ``tenant`` field of the body or query (``space/name`` or ``name``). Credentials
    that do not authenticate are refused here, never widened to the whole server.
    """
    if identity.refused is not None:
        raise identity.refused
    if explicit:
        space, _, name = explicit.rpartition("/")
        check_name(name, "tenant")
        if space and space != DEBUG_SPACE and space not in known_spaces:
            raise InvalidParameter(
                f"Unknown tenant space {space!r}: use an account id or {DEBUG_SPACE!r}", details={"field": "tenant"}
            )
        if identity.space is not None and space and space != identity.space:
            raise InvalidParameter(
                f"Tenant {explicit!r} is outside the space of your credentials ({identity.space!r})",
                details={"field": "tenant"},
            )
        return tenant_id(space or identity.space or default_space, name)
    if identity.space is not None:
        return tenant_id(identity.space, identity.header_name)
    if identity.header_name:
        # A tenant header alone names a tenant of the default account, never "everything".
        return tenant_id(default_space, identity.header_name)
    if not server_wide:
        raise InvalidParameter(
            "This server refuses server-wide control calls (--no-server-wide-control): name a tenant with"
            f" Access-Token or X-Debug, and {TENANT_HEADER}, or a 'tenant' field",
            details={"field": "tenant"},
        )
    return None
