"""The .env that setup writes: the student's file (or .env.example) plus the detected values."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from labkit.hostfacts.token import new_token
from labkit.i18n import _
from labkit.settings import RENAMED

from labhost import compose
from labhost.envfile import EnvFile, LineProblem, validate
from labhost.facts import User
from labhost.plan import Plan


@dataclass(frozen=True)
class EnvUpdate:
    before: str
    after: str
    changes: tuple[str, ...]
    problems: tuple[LineProblem, ...]

    @property
    def changed(self) -> bool:
        return self.before != self.after


def detected_values(plan: Plan, user: User) -> dict[str, str | None]:
    values: dict[str, str | None] = {"LAB_UID": str(user.uid), "LAB_GID": str(user.gid)}
    values.update(plan.env)
    values["COMPOSE_FILE"] = compose.compose_file_value(plan.flavour)
    return values


def update_env(
    existing: str | None, example: str, plan: Plan, user: User, *, token: Callable[[], str] = new_token
) -> EnvUpdate:
    """The new .env text. Only detected keys change; a missing token gets generated."""
    before = existing if existing is not None else ""
    env = EnvFile.parse(existing if existing is not None else example)
    current = env.values()
    detected = detected_values(plan, user)
    changes = rename_old_names(env, current, decided=detected.keys())
    for key, value in detected.items():
        if value is None:
            if key in current:
                env.unset(key)
                changes.append(_("{key} removed (was {value!r})").format(key=key, value=current[key]))
        elif current.get(key) != value:
            env.set(key, value)
            changes.append(
                _("{key}={value} (was {old!r})").format(key=key, value=value, old=current[key])
                if key in current
                else f"{key}={value}"
            )
    if not current.get("JUPYTER_TOKEN"):
        env.set("JUPYTER_TOKEN", token())
        changes.append(_("JUPYTER_TOKEN generated"))
    return EnvUpdate(before, env.render(), tuple(changes), tuple(validate(env)))


def rename_old_names(env: EnvFile, current: dict[str, str], *, decided: Iterable[str]) -> list[str]:
    """Old names (labkit.settings RENAMED) become their new name on every flavour, so the
    notice the lab and the doctor print for them ("run setup to rename it") goes away. The old
    value moves over unless the new name is already set (the old one is ignored then) or this
    computer decides the new value itself (the plan's detected groups win)."""
    changes = []
    decided = set(decided)
    for old, new in RENAMED.items():
        if old not in current:
            continue
        if current[old] and not current.get(new) and new not in decided:
            env.set(new, current[old])
            changes.append(_("{old} renamed to {new}").format(old=old, new=new))
        else:
            changes.append(_("{key} removed (was {value!r})").format(key=old, value=current[old]))
        env.unset(old)
    return changes
