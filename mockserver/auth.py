"""Access tokens and the accounts they belong to.

Token format (documented in docs/clients.md#the-token and docs/interpretation.md): the lowercase hexadecimal
HMAC-SHA256 of the ``entity_account_id`` (UTF-8), keyed with the ``entity_secret_key`` (UTF-8); 64 characters.
The server compares a presented token against every known account's token with ``hmac.compare_digest`` and
without an early exit, so the time taken does not tell which account, or how much of a token, matched.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mockserver.errors import ApiError, AuthInvalid, AuthRequired
from mockserver.protocol import TOKEN_HEADER, TOKEN_PARAM
from mockserver.version import fixtures_path

ENVIRONMENTS = ("staging", "production")


def make_token(account_id: str, secret_key: str) -> str:
    return hmac.new(secret_key.encode(), account_id.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Account:
    account_id: str
    secret_key: str
    environments: tuple[str, ...]
    label: str = ""

    @property
    def token(self) -> str:
        return make_token(self.account_id, self.secret_key)


class AccountBook:
    """The accounts a server knows, with their tokens computed once."""

    def __init__(self, accounts: list[Account], default_account: str) -> None:
        if not accounts:
            raise ValueError("the accounts file lists no account")
        self.accounts = accounts
        self.by_id = {account.account_id: account for account in accounts}
        if default_account not in self.by_id:
            raise ValueError(f"default_account {default_account!r} is not in the accounts file")
        self.default = self.by_id[default_account]
        self._tokens = [(account.token.encode(), account) for account in accounts]

    @classmethod
    def load(cls, path: str | Path | None = None) -> AccountBook:
        source = Path(path) if path else fixtures_path("accounts.json")
        try:
            raw: Any = json.loads(source.read_text(encoding="utf-8"))
            items = raw["accounts"]
            if not isinstance(items, list) or not items:
                raise ValueError("'accounts' must be a non-empty list")
            accounts = [_account(item) for item in items]
            default = str(raw.get("default_account") or accounts[0].account_id)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"cannot read accounts from {source}: {exc}") from None
        return cls(accounts, default)

    def match(self, token: str) -> Account | None:
        """The account whose token this is exactly, compared in constant time against every account."""
        presented = token.encode("utf-8", "surrogateescape")
        found = None
        for expected, account in self._tokens:
            if hmac.compare_digest(presented, expected):
                found = account
        return found

    def authenticate(self, token: str | None, environment: str) -> Account:
        """The token's account, or AUTH_REQUIRED / AUTH_INVALID with a message and a hint saying what to fix.

        A token is accepted only exactly as ``make_token`` writes it (64 lowercase hex characters), as a
        server comparing digests would (docs/interpretation.md#authentication); near misses get a hint.
        """
        if token is None or not token.strip():
            raise AuthRequired(
                f"Authentication required: send your token in the {TOKEN_HEADER} header "
                "or the access_token parameter (or use debug=true)",
                hint=f"No token was found in the {TOKEN_HEADER} header or the {TOKEN_PARAM} query parameter"
                + (" (the header was sent empty)" if token is not None else "")
                + "; `tap4book-mock token` prints the default account's token.",
            )
        account = self.match(token)
        if account is None:
            raise AuthInvalid(
                "Invalid access token: expected hex HMAC-SHA256(entity_secret_key, entity_account_id)",
                hint=self._near_miss(token),
            )
        if environment not in account.environments:
            raise AuthInvalid(
                f"This key belongs to the {'/'.join(account.environments)} environment; "
                f"this server is {environment}: use the {environment} keys",
                hint=f"The token is account {account.account_id!r}'s, whose key is for "
                f"{'/'.join(account.environments)}; start the server with --environment "
                f"{account.environments[0]} or use a {environment} account.",
            )
        return account

    def _near_miss(self, token: str) -> str:
        """Why a token matched no account, as far as the server can tell without revealing any secret."""
        cleaned = token.strip()
        if cleaned != token and self.match(cleaned) is not None:
            return "The token has spaces or line breaks around it: send exactly the 64 hex characters."
        if self.match(cleaned.lower()) is not None:
            return "The token is in upper case: tokens are lowercase hexadecimal, as hexdigest() writes them."
        for account in self.accounts:
            if hmac.compare_digest(cleaned.encode(), make_token(account.secret_key, account.account_id).encode()):
                return (
                    f"This is HMAC-SHA256 keyed with account {account.account_id!r}'s id over its secret: key and "
                    "message are swapped (key = entity_secret_key, message = entity_account_id)."
                )
            if hmac.compare_digest(cleaned.encode(), account.secret_key.encode()):
                return "This is a secret key itself: never send it; send hex HMAC-SHA256(secret, account id)."
            if cleaned == account.account_id:
                return "This is an account id, not a token: send hex HMAC-SHA256(entity_secret_key, account id)."
        if len(cleaned) != 64 or any(ch not in "0123456789abcdefABCDEF" for ch in cleaned):
            return f"A token is 64 hexadecimal characters (an HMAC-SHA256 hex digest); this one has {len(cleaned)}."
        known = ", ".join(sorted(self.by_id))
        return (
            "No account of this server has this token: it was made for an account this server does not know, "
            f"or with another secret (accounts here: {known}; `tap4book-mock token --account ID` prints one)."
        )


def _account(item: Any) -> Account:
    environments = item.get("environments") or ["staging", "production"]
    if not isinstance(environments, list) or not all(env in ENVIRONMENTS for env in environments):
        raise ValueError(f"environments must be a list of {', '.join(ENVIRONMENTS)}, got {environments!r}")
    account_id, secret = item["entity_account_id"], item["entity_secret_key"]
    if not isinstance(account_id, str) or not account_id or not isinstance(secret, str) or not secret:
        raise ValueError("entity_account_id and entity_secret_key must be non-empty strings")
    return Account(account_id, secret, tuple(environments), str(item.get("label", "")))


def guard(*, public: bool, debug: bool, failure: ApiError | None) -> None:
    """The request guard: a non-public API endpoint needs a valid token, unless the call is in debug mode."""
    if debug or public or failure is None:
        return
    raise failure
