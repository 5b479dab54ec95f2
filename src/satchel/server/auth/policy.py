"""Who is calling, and may they? Credentials → principal → a decision per route, deny by
default.

Credentials: ``Authorization: Bearer <token>`` (MLFLOW_TRACKING_TOKEN), or Basic with a user
and either their password or one of their tokens (MLFLOW_TRACKING_USERNAME/PASSWORD).
Failed password logins are counted per user and address; past ``FailedLogins.limit`` in
``window_s`` the pair is refused (429) until the window passes, even with the right password.

A route declares the permission it needs and the resource it acts on (the routes table); the
level a principal holds on an experiment (or a registered model) is the best of their own
grants, their groups' grants and the server-wide default; admins hold MANAGE everywhere.
A logged model is judged by its experiment. "server"-wide routes need
only an authenticated caller (search results are filtered afterwards); a route declaring
anything unknown is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from satchel.server.auth import secrets
from satchel.server.auth.store import AuthStore, Level, Principal

__all__ = ["AuthError", "FailedLogins", "Policy", "experiment_of_artifact"]


class AuthError(Exception):
    """A refusal, in MLflow's error vocabulary (UNAUTHENTICATED, PERMISSION_DENIED, ...)."""

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message


def _unauthenticated(message: str = "missing or invalid credentials") -> AuthError:
    # never echoes what was sent: a token must not reach an error message or a log
    return AuthError("UNAUTHENTICATED", message)


class FailedLogins:
    """Failed attempts per (user, address) in a sliding window; an injected clock."""

    def __init__(
        self, limit: int = 5, window_s: float = 300.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit, self.window_s, self.clock = limit, window_s, clock
        self._failures: dict[tuple[str, str], list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str]) -> list[float]:
        now = self.clock()
        recent = [t for t in self._failures.get(key, []) if now - t < self.window_s]
        self._failures[key] = recent
        return recent

    def blocked(self, user: str, address: str) -> bool:
        with self._lock:
            return len(self._recent((user, address))) >= self.limit

    def failed(self, user: str, address: str) -> None:
        with self._lock:
            self._recent((user, address)).append(self.clock())


class Policy:
    def __init__(
        self,
        auth: AuthStore,
        experiment_of_run: Callable[[str], str | None],
        experiment_id_of_name: Callable[[str], str | None],
        failures: FailedLogins | None = None,
        experiment_of_logged_model: Callable[[str], str | None] = lambda model_id: None,
    ) -> None:
        self.auth = auth
        self.experiment_of_run = experiment_of_run
        self.experiment_id_of_name = experiment_id_of_name
        self.experiment_of_logged_model = experiment_of_logged_model
        self.failures = failures or FailedLogins()
        # successful password checks, by a hash of the credentials, for a minute: scrypt
        # costs tens of ms and Basic auth sends the password with every request
        self._verified: dict[str, tuple[str, float]] = {}

    # -- authentication ----------------------------------------------------------------
    def authenticate(self, header: str | None, address: str) -> Principal:
        if not header:
            raise _unauthenticated("credentials required (a Bearer token or Basic user:password)")
        scheme, _, value = header.strip().partition(" ")
        scheme = scheme.lower()
        if scheme == "bearer":
            user, secret = "", value.strip()
        elif scheme == "basic":
            user, secret = _basic(value)
        else:
            raise _unauthenticated("unsupported Authorization scheme (use Bearer or Basic)")
        # Password guesses are limited; a token has 256 random bits, nothing to guess (and
        # limiting bad tokens per address would lock out everyone behind the same NAT).
        password = not secret.startswith(secrets.TOKEN_PREFIX)
        if password and self.failures.blocked(user, address):
            raise AuthError("REQUEST_LIMIT_EXCEEDED", "too many failed logins: try again later")
        username = self._check(user, secret)
        principal = self.auth.principal(username) if username else None
        if principal is None:
            if password:
                self.failures.failed(user, address)
            raise _unauthenticated()
        return principal

    def _check(self, user: str, secret: str) -> str | None:
        if secret.startswith(secrets.TOKEN_PREFIX):
            owner = self.auth.token_owner(secret)
            return owner if owner and (not user or user == owner) else None
        if not user:
            return None
        stored = self.auth.password_hash(user)
        if stored is None:
            return None
        key = hashlib.sha256(f"{user}\0{secret}".encode()).hexdigest()
        seen = self._verified.get(key)
        if seen and seen[0] == stored and time.monotonic() - seen[1] < 60:
            return user
        if not secrets.verify_password(secret, stored):
            return None
        if len(self._verified) > 10_000:
            self._verified.clear()
        self._verified[key] = (stored, time.monotonic())
        return user

    # -- authorization -----------------------------------------------------------------
    def authorize(
        self, principal: Principal, needed: str, resource: str, params: Mapping[str, Any]
    ) -> None:
        if needed == "PUBLIC":
            return
        if needed not in ("READ", "EDIT", "MANAGE"):
            raise AuthError(
                "PERMISSION_DENIED", f"route permission {needed!r} has no rule: refused"
            )
        level = Level[needed]
        if principal.is_admin:
            return
        if resource == "server":
            return  # any signed-in caller; listings are filtered by ``visible``
        if resource == "registered_model":
            name = _one(params, "name")
            if name is not None and self.model_level(principal, name) < level:
                raise AuthError(
                    "PERMISSION_DENIED",
                    f"user {principal.username!r} needs {level.name} on registered model {name!r}",
                )
            return
        for exp_id in self._experiments(resource, params):
            if exp_id is None:
                continue  # nothing there: the handler answers 404
            if self.level(principal, exp_id) < level:
                raise AuthError(
                    "PERMISSION_DENIED",
                    f"user {principal.username!r} needs {level.name} on experiment {exp_id}",
                )

    def level(self, principal: Principal, experiment_id: str) -> Level:
        if principal.is_admin:
            return Level.MANAGE
        if not experiment_id.isdigit():
            return self.auth.default_level()
        granted = self.auth.levels(principal, [int(experiment_id)]).get(int(experiment_id))
        return max(granted or Level.NONE, self.auth.default_level())

    def model_level(self, principal: Principal, name: str) -> Level:
        if principal.is_admin:
            return Level.MANAGE
        granted = self.auth.model_levels(principal, [name]).get(name)
        return max(granted or Level.NONE, self.auth.default_level())

    def visible_models(self, principal: Principal, names: list[str]) -> set[str]:
        """The registered models among ``names`` the principal may read."""
        if principal.is_admin or self.auth.default_level() >= Level.READ:
            return set(names)
        granted = self.auth.model_levels(principal, sorted(set(names)))
        return {n for n, lvl in granted.items() if lvl >= Level.READ}

    def visible(self, principal: Principal, experiment_ids: list[str]) -> set[str]:
        """The experiments among ``experiment_ids`` the principal may read."""
        if principal.is_admin or self.auth.default_level() >= Level.READ:
            return set(experiment_ids)
        ids = [int(e) for e in experiment_ids if e.isdigit()]
        granted = self.auth.levels(principal, ids)
        return {str(e) for e, lvl in granted.items() if lvl >= Level.READ}

    def readable_runs(self, principal: Principal, run_ids: list[str]) -> set[str]:
        """The runs among ``run_ids`` the principal may read (a missing run: not readable)."""
        if principal.is_admin or self.auth.default_level() >= Level.READ:
            return set(run_ids)
        experiments = {r: self.experiment_of_run(r) for r in dict.fromkeys(run_ids)}
        visible = self.visible(principal, [e for e in set(experiments.values()) if e])
        return {r for r, e in experiments.items() if e in visible}

    def _experiments(self, resource: str, params: Mapping[str, Any]) -> list[str | None]:
        if "," in resource:  # several resources, each needing the route's level
            return [e for part in resource.split(",") for e in self._experiments(part, params)]
        if resource == "experiment":
            return [_one(params, "experiment_id")]
        if resource == "experiments":
            ids = params.get("experiment_ids") or []
            return [str(i) for i in (ids if isinstance(ids, list) else [ids])]
        if resource == "experiment_name":
            name = _one(params, "experiment_name")
            return [self.experiment_id_of_name(name) if name else None]
        if resource == "run":
            run_id = _one(params, "run_id") or _one(params, "run_uuid")
            return [self.experiment_of_run(run_id) if run_id else None]
        if resource == "runs":
            ids = params.get("run_ids") or []
            return [
                self.experiment_of_run(str(r)) for r in (ids if isinstance(ids, list) else [ids])
            ]
        if resource == "logged_model":
            model_id = _one(params, "model_id")
            return [self.experiment_of_logged_model(model_id) if model_id else None]
        if resource == "artifact":  # a path outside any experiment: the default level
            return [experiment_of_artifact(_one(params, "path") or "") or "-"]
        raise AuthError("PERMISSION_DENIED", f"route resource {resource!r} has no rule: refused")


def _one(params: Mapping[str, Any], key: str) -> str | None:
    value = params.get(key)
    if isinstance(value, list):
        value = value[0] if value else None
    return None if value is None else str(value)


def _basic(value: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise _unauthenticated("malformed Basic credentials") from None
    user, sep, secret = decoded.partition(":")
    if not sep:
        raise _unauthenticated("malformed Basic credentials")
    return user, secret


def experiment_of_artifact(path: str) -> str | None:
    """``<experiment id>/<run id>/artifacts/...`` → the experiment id (the proxy's layout)."""
    first = path.strip("/").split("/", 1)[0]
    return first if first.isdigit() else None
