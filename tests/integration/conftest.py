"""Integration tests run the real flows on a temporary Prefect server and throw-away data."""

import os

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# Files written by a test are not "still being written" (the default waits 10 s).
os.environ["KCITY_SETTLE_SECONDS"] = "0"


@pytest.fixture(scope="session", autouse=True)
def prefect_server(tmp_path_factory):
    """One temporary Prefect server (SQLite under a temp PREFECT_HOME) for the session."""
    home = tmp_path_factory.mktemp("prefect-home")
    os.environ["PREFECT_HOME"] = str(home)
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def kcity_env(tmp_path, monkeypatch):
    """KCITY_* pointing at a fresh data folder; returns the Settings the flows will see."""
    monkeypatch.setenv("KCITY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("KCITY_INBOX", raising=False)
    monkeypatch.delenv("KCITY_DB", raising=False)
    from kcity.settings import get_settings

    return get_settings()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`scripts/serve.sh` (server, pool, deployments, worker) on a free port, sample inbox."""
    from kcity.sample import write_sample
    from tests.integration.prefect_server import Served

    data = tmp_path_factory.mktemp("served") / "data"
    data.mkdir()
    write_sample(data / "inbox")
    stack = Served(data)
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server (scripts/pg.sh) for the session's scale-out tests."""
    from tests.integration.postgres import Postgres

    server = Postgres()
    yield server
    server.stop()
