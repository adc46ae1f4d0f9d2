"""A connector driver's own keys in `[connectors.<name>]`, validated against its model with errors naming the key."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from archived.config import ConnectorConfig
from archived.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


class DriverOptions(BaseModel):
    """Base of the drivers' option models: unknown keys are refused (a typo is an error, not a silent default)."""

    model_config = ConfigDict(extra="forbid")


def driver_options(model: type[M], name: str, config: ConnectorConfig) -> M:
    """The driver's keys of connector `name`, validated; a `ConfigError` names each bad key."""
    try:
        return model.model_validate(config.driver_options())
    except ValidationError as exc:
        lines = [f"connectors.{name}: invalid {config.driver} connector"]
        for error in exc.errors():
            key = ".".join(str(part) for part in error["loc"]) or "(table)"
            if error["type"] == "extra_forbidden":
                message = f"unknown key for driver {config.driver!r} (see docs/connectors.md)"
            elif error["type"] == "missing":
                message = "required key is missing"
            else:
                message = error["msg"].removeprefix("Value error, ")
            lines.append(f"  connectors.{name}.{key}: {message}")
        raise ConfigError("\n".join(lines)) from None
