"""A server process tunes the garbage collector once its app is built."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from application.settings import Settings
from cli.serve import server_config
from cli.server_process import OLDER_THRESHOLDS, YOUNG_THRESHOLD


@pytest.fixture
def collector_restored() -> Iterator[None]:
    thresholds = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("collector_restored")
def test_one_server_process_freezes_its_startup_heap_and_collects_less_often(
    database_url: str,
) -> None:
    gc.set_threshold(700, 10, 10)
    gc.unfreeze()
    config = server_config(Settings(database_url=database_url), workers=1)
    assert isinstance(config.app, FastAPI)
    assert gc.get_threshold() == (YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
    assert gc.get_freeze_count() > 0


def test_worker_processes_build_their_app_through_the_tuning_factory(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # server_config hands the settings to the workers through the environment: put back after.
    monkeypatch.setenv("INCIDENTS_DATABASE_URL", database_url)
    monkeypatch.setenv("INCIDENTS_SESSION_KEY", "s" * 43)
    config = server_config(Settings(database_url=database_url), workers=2)
    assert config.app == "cli.server_process:server_app"
    assert config.factory
