"""The real spreadsheet applications sheetnet checks against, behind one interface.

A further application is a module with an `APP` and one line in `APPS`.
"""

from __future__ import annotations

from . import gnumeric, ironcalc, libreoffice
from .base import App, AppMissing

APPS: dict[str, App] = {app.name: app for app in (libreoffice.APP, gnumeric.APP, ironcalc.APP)}

__all__ = ["APPS", "App", "AppMissing", "get_app", "installed"]


def installed() -> list[App]:
    return [app for app in APPS.values() if app.available()]


def get_app(name: str) -> App:
    try:
        return APPS[name]
    except KeyError:
        raise ValueError(f"unknown application {name!r} (known: {', '.join(APPS)})") from None
