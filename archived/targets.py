"""Storage targets: the configured `[storage.<name>]` tables turned into driver instances."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from archived.config import Config
from archived.errors import ConfigError
from archived.interfaces.storage import StorageDriver, Tier
from archived.plugins import storage_driver_names


@dataclass
class StorageTarget:
    """One configured target."""

    name: str
    driver_name: str
    driver: StorageDriver
    tier: Tier
    required: bool


def build_targets(config: Config, drivers: dict[str, type[StorageDriver]]) -> dict[str, StorageTarget]:
    """Instantiate every configured target; errors name the `[storage.<name>]` key."""
    targets = {}
    for name, target in config.storage.items():
        if target.driver not in drivers:
            known = ", ".join(storage_driver_names()) or "none installed"
            raise ConfigError(f"storage.{name}.driver: unknown storage driver {target.driver!r} (known: {known})")
        cls = drivers[target.driver]
        try:
            options = cls.config_model.model_validate(target.driver_options())
        except ValidationError as exc:
            problems = "; ".join(
                f"storage.{name}.{'.'.join(str(p) for p in e['loc'])}: "
                + ("unknown key" if e["type"] == "extra_forbidden" else e["msg"].removeprefix("Value error, "))
                for e in exc.errors()
            )
            raise ConfigError(problems) from None
        tier = Tier(target.tier)
        targets[name] = StorageTarget(name, target.driver, cls(name, options, tier), tier, target.required)
    return targets
