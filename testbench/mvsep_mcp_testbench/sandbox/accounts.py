"""Sandbox accounts: the two built-in test accounts, registration and login.

Tokens are 30 alphanumerics like MVSep's. The built-in tokens are constants so that tests, demos and the CLI banner
can name them; accounts created through ``/app/register`` get a random token that ``/app/login`` returns.
"""

from __future__ import annotations

import re
import secrets
import string
import threading
from dataclasses import dataclass, field
from typing import Any

SANDBOX_FREE_TOKEN = "SandboxFree0000000000000000001"
SANDBOX_PREMIUM_TOKEN = "SandboxPremium0000000000000002"
SANDBOX_FREE_EMAIL = "free@sandbox.mvsep.test"
SANDBOX_PREMIUM_EMAIL = "premium@sandbox.mvsep.test"
SANDBOX_PASSWORD = "sandbox-password"
PREMIUM_START_CREDITS = 1000
MIN_PASSWORD_CHARS = 8
TOKEN_CHARS = 30

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def new_token() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(TOKEN_CHARS))


@dataclass
class Account:
    token: str
    name: str
    email: str
    password: str
    premium_minutes: int = 0
    premium_enabled: int = 0
    long_filenames_enabled: int = 0
    created_at: str = "2024-01-01 00:00:00"
    updated_at: str = "2024-01-01 00:00:00"

    @property
    def spends_credits(self) -> bool:
        """Jobs of this account are premium jobs (charged, premium queue, premium-only models allowed)."""
        return bool(self.premium_enabled)

    def public(self, *, current_queue: int | None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "email": self.email,
            "api_token": self.token,
            "premium_minutes": self.premium_minutes,
            "premium_enabled": self.premium_enabled,
            "long_filenames_enabled": self.long_filenames_enabled,
        }
        if current_queue is not None:
            data["current_queue"] = current_queue
        data["created_at"] = self.created_at
        data["updated_at"] = self.updated_at
        return data


@dataclass
class AccountBook:
    """All accounts by token. Thread-safe for the small operations the routes need."""

    accounts: dict[str, Account] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    @classmethod
    def with_defaults(cls, now_text: str) -> AccountBook:
        book = cls()
        book.add(Account(SANDBOX_FREE_TOKEN, "Sandbox Free", SANDBOX_FREE_EMAIL, SANDBOX_PASSWORD,
                         created_at=now_text, updated_at=now_text))
        book.add(Account(SANDBOX_PREMIUM_TOKEN, "Sandbox Premium", SANDBOX_PREMIUM_EMAIL, SANDBOX_PASSWORD,
                         premium_minutes=PREMIUM_START_CREDITS, premium_enabled=1,
                         created_at=now_text, updated_at=now_text))
        return book

    def add(self, account: Account) -> Account:
        with self.lock:
            self.accounts[account.token] = account
        return account

    def get(self, token: str | None) -> Account | None:
        if not token:
            return None
        return self.accounts.get(token)

    def by_email(self, email: str) -> Account | None:
        wanted = email.strip().lower()
        for account in self.accounts.values():
            if account.email.lower() == wanted:
                return account
        return None

    def register(self, name: str, email: str, password: str, confirmation: str, now_text: str
                 ) -> tuple[Account | None, dict[str, list[str]]]:
        """A new account, or Laravel-style field errors."""
        errors: dict[str, list[str]] = {}
        if not name.strip():
            errors["name"] = ["The name field is required."]
        if not email.strip():
            errors["email"] = ["The email field is required."]
        elif not _EMAIL_RE.match(email.strip()):
            errors["email"] = ["The email must be a valid email address."]
        elif self.by_email(email):
            errors["email"] = ["The email has already been taken."]
        if not password:
            errors["password"] = ["The password field is required."]
        elif len(password) < MIN_PASSWORD_CHARS:
            errors["password"] = [f"The password must be at least {MIN_PASSWORD_CHARS} characters."]
        elif password != confirmation:
            errors["password"] = ["The password confirmation does not match."]
        if errors:
            return None, errors
        account = Account(new_token(), name.strip(), email.strip(), password, created_at=now_text, updated_at=now_text)
        return self.add(account), {}

    def login(self, email: str, password: str) -> tuple[Account | None, dict[str, list[str]]]:
        errors: dict[str, list[str]] = {}
        if not email.strip():
            errors["email"] = ["The email field is required."]
        if not password:
            errors["password"] = ["The password field is required."]
        if errors:
            return None, errors
        account = self.by_email(email)
        if account is None or account.password != password:
            return None, {"email": ["These credentials do not match our records."]}
        return account, {}
