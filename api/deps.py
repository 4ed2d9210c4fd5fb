"""FastAPI dependencies: the process's store and settings, taken from the app state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from graph.settings import CrkgSettings
from graph.store import GraphStore


def get_store(request: Request) -> GraphStore:
    store: GraphStore = request.app.state.store
    return store


def get_app_settings(request: Request) -> CrkgSettings:
    settings: CrkgSettings = request.app.state.settings
    return settings


StoreDep = Annotated[GraphStore, Depends(get_store)]
SettingsDep = Annotated[CrkgSettings, Depends(get_app_settings)]
