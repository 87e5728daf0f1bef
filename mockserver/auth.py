"""Access tokens and the accounts they belong to.

Token format (documented in the README and docs/auth.md): the lowercase hexadecimal HMAC-SHA256 of the
``entity_account_id`` (UTF-8), keyed with the ``entity_secret_key`` (UTF-8); 64 characters. The server
compares a presented token against every known account's token with ``hmac.compare_digest`` and without
an early exit, so the time taken does not tell which account, or how much of a token, matched.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mockserver import fixtures_path
from mockserver.errors import AuthInvalid, AuthRequired

TOKEN_HEADER = "Access-Token"
TOKEN_PARAM = "access_token"


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
            raw: dict[str, Any] = json.loads(source.read_text(encoding="utf-8"))
            accounts = [
                Account(
                    account_id=str(item["entity_account_id"]),
                    secret_key=str(item["entity_secret_key"]),
                    environments=tuple(item.get("environments") or ("staging", "production")),
                    label=str(item.get("label", "")),
                )
                for item in raw["accounts"]
            ]
            default = str(raw.get("default_account") or accounts[0].account_id)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"cannot read accounts from {source}: {exc}") from None
        return cls(accounts, default)

    def match(self, token: str) -> Account | None:
        """The account whose token this is, compared in constant time against every account."""
        presented = token.strip().lower().encode()
        found = None
        for expected, account in self._tokens:
            if hmac.compare_digest(presented, expected):
                found = account
        return found

    def authenticate(self, token: str | None, environment: str) -> Account:
        """The token's account, or AUTH_REQUIRED / AUTH_INVALID with a message saying what to fix."""
        if token is None or not token.strip():
            raise AuthRequired(
                "Authentication required: send your token in the Access-Token header "
                "or the access_token parameter (or use debug=true)"
            )
        account = self.match(token)
        if account is None:
            raise AuthInvalid("Invalid access token: expected hex HMAC-SHA256(entity_secret_key, entity_account_id)")
        if environment not in account.environments:
            raise AuthInvalid(
                f"This key belongs to the {'/'.join(account.environments)} environment; "
                f"this server is {environment}: use the {environment} keys"
            )
        return account
