"""Optional bearer tokens, each naming a tenant, for every RPC of the voxprint service.

Health checks and reflection stay open. The service looks a call's tenant up once, before it reads
the request (``VoxprintService._caller``), and refuses a call whose token names none.

``VOXPRINT_AUTH_TOKEN`` is one token for one tenant (the default tenant, which also owns every job
of a server without tokens). ``VOXPRINT_AUTH_TOKENS_FILE`` names a file of tenants, one a line —
the tenant's name and its token separated by white space, ``#`` starting a comment::

    # tenant   token
    kitchen    6f1c0a9e4b2d4e8f9a7c3b1d5e0f2a48
    workshop   0b9e7d5c3a1f4e2d8c6b4a2f0e9d7c5b

Clients send ``authorization: Bearer <token>`` metadata (the ``voxprint`` CLI's ``--token``).
Tokens are secrets: they come from the environment or that file only, are compared in constant
time, and never appear in a log line or an error message.
"""

from __future__ import annotations

import hmac
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from voxprint.common.credentials_file import named_secrets
from voxprint.server.store import DEFAULT_TENANT

TOKEN_ENV = "VOXPRINT_AUTH_TOKEN"
TOKENS_FILE_ENV = "VOXPRINT_AUTH_TOKENS_FILE"
# Long enough that guessing is hopeless at any request rate (`openssl rand -hex 16` gives 32).
MIN_TOKEN_LENGTH = 16
# Tenant names are stored with each job and shown in logs: short and plain.
_TENANT_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")

Metadata = Iterable[tuple[str, str | bytes]] | None


class Tenants:
    """Who a call comes from, by its bearer token; without tokens every call is the default tenant's."""

    def __init__(self, tenant_of_token: Mapping[str, str]) -> None:
        self._tenants = [(f"Bearer {token}".encode(), tenant) for token, tenant in tenant_of_token.items()]

    @property
    def required(self) -> bool:
        return bool(self._tenants)

    @property
    def count(self) -> int:
        """How many tenants may call: the default tenant alone when no token is required."""
        return max(1, len({tenant for _, tenant in self._tenants}))

    def tenant_of(self, metadata: Metadata) -> str | None:
        """The tenant the call's token belongs to; None when tokens are required and it has none of them."""
        if not self._tenants:
            return DEFAULT_TENANT
        sent = dict(metadata or ()).get("authorization", "")
        sent_bytes = sent.encode() if isinstance(sent, str) else sent
        found = None
        # Every token is compared, whatever matched, so the time taken tells nothing about which.
        for expected, tenant in self._tenants:
            if hmac.compare_digest(sent_bytes, expected):
                found = tenant
        return found


def tenants_from_environment(environ: Mapping[str, str] = os.environ) -> Tenants:
    """The tenants configured by VOXPRINT_AUTH_TOKEN and VOXPRINT_AUTH_TOKENS_FILE (either, both, or none).

    A variable that is set must mean something: an empty one is refused rather than read as "no
    authentication", which a typo in a service file would otherwise silently turn off.
    """
    for variable in (TOKEN_ENV, TOKENS_FILE_ENV):
        if variable in environ and not environ[variable].strip():
            raise ValueError(f"{variable} is set but empty: set it to a value, or unset it to serve without tokens")
    tokens = read_tokens_file(Path(environ[TOKENS_FILE_ENV])) if TOKENS_FILE_ENV in environ else {}
    if (single := environ.get(TOKEN_ENV)) is not None:
        _check_strength(single, TOKEN_ENV)
        if single in tokens:
            raise ValueError(f"{TOKEN_ENV} is also a token of {environ[TOKENS_FILE_ENV]}: give each tenant its own")
        tokens[single] = DEFAULT_TENANT
    return Tenants(tokens)


def read_tokens_file(path: Path) -> dict[str, str]:
    """token → tenant from a tokens file; a ValueError names the file and line, never a token."""
    try:
        lines = list(named_secrets(path, "a tenant name and its token separated by white space", ValueError))
    except OSError as error:
        raise ValueError(f"cannot read the tokens file {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ValueError(f"cannot read the tokens file {path}: it is not UTF-8 text") from None
    tokens: dict[str, str] = {}
    for where, tenant, token in lines:
        if not _TENANT_NAME.fullmatch(tenant):
            raise ValueError(f"{where}: a tenant name is 1 to 64 letters, digits, '.', '_' or '-'")
        _check_strength(token, where)
        if token in tokens:
            raise ValueError(f"{where}: this token is already given to tenant {tokens[token]!r}")
        tokens[token] = tenant
    if not tokens:
        raise ValueError(f"the tokens file {path} names no tenant")
    return tokens


def _check_strength(token: str, where: str) -> None:
    # Says where, never the token itself.
    if len(token) < MIN_TOKEN_LENGTH:
        raise ValueError(f"{where}: a token needs at least {MIN_TOKEN_LENGTH} characters (e.g. `openssl rand -hex 16`)")
