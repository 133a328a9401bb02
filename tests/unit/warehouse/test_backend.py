"""The warehouse backend setting (KCITY_WAREHOUSE) and the DuckLake extension files."""

from pathlib import Path

import duckdb
import pytest

from kcity.settings import get_settings
from warehouse.backend import Lake, extension_file


def test_the_embedded_file_is_the_default(monkeypatch, tmp_path):
    monkeypatch.setenv("KCITY_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("KCITY_WAREHOUSE", raising=False)
    settings = get_settings()
    assert settings.internal_db == tmp_path / "internal" / "warehouse.duckdb"
    assert settings.writer == tmp_path / "internal" / "writer.lock"


def test_ducklake_is_one_setting_away(monkeypatch, tmp_path):
    monkeypatch.setenv("KCITY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KCITY_WAREHOUSE", "DuckLake ")
    monkeypatch.delenv("KCITY_DUCKLAKE_CATALOG", raising=False)
    monkeypatch.delenv("KCITY_DUCKLAKE_DATA_PATH", raising=False)
    lake = get_settings().internal_db
    assert isinstance(lake, Lake)
    assert lake.catalog == "dbname=kcity_lake host=127.0.0.1 port=5433 user=postgres"
    assert lake.data_path == f"{tmp_path / 'lake'}/"
    assert get_settings().writer == lake  # the lock is the catalog's advisory lock

    monkeypatch.setenv("KCITY_DUCKLAKE_CATALOG", "dbname=x host=pg.example")
    monkeypatch.setenv("KCITY_DUCKLAKE_DATA_PATH", "s3://bucket/kcity/")
    lake = get_settings().internal_db
    assert (lake.catalog, lake.data_path) == ("dbname=x host=pg.example", "s3://bucket/kcity/")


def test_an_unknown_backend_is_refused_by_name(monkeypatch):
    monkeypatch.setenv("KCITY_WAREHOUSE", "sqlite")
    with pytest.raises(ValueError, match="KCITY_WAREHOUSE='sqlite': expected one of duckdb, ducklake"):
        get_settings()


@pytest.mark.parametrize(
    ("name", "package"),
    [("ducklake", "duckdb_extension_ducklake"), ("postgres_scanner", "duckdb_extension_postgres")],
)
def test_the_pinned_extensions_load_offline_with_signature_checks(tmp_path: Path, name, package):
    path = extension_file(name, package, tmp_path)
    assert path == tmp_path / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    con = duckdb.connect()  # signature checks on (the default)
    con.execute(f"LOAD '{path}'")
    loaded = con.execute("SELECT loaded FROM duckdb_extensions() WHERE extension_name = ?", [name]).fetchone()
    assert loaded == (True,)
    assert extension_file(name, package, tmp_path) == path  # copied once, reused


def test_a_lake_whose_catalog_is_unreachable_does_not_exist(tmp_path):
    lake = Lake("dbname=nope host=127.0.0.1 port=1 user=postgres connect_timeout=2", f"{tmp_path}/", tmp_path)
    assert not lake.exists()


def test_a_catalog_password_never_shows_in_messages(tmp_path):
    lake = Lake("dbname=k host=pg.example user=kcity password=s3cret sslmode=require", "s3://b/", tmp_path)
    assert "s3cret" not in str(lake)
    assert lake.redacted_catalog == "dbname=k host=pg.example user=kcity password=*** sslmode=require"
    assert Lake("password='a b' dbname=k", "/", tmp_path).redacted_catalog == "password=*** dbname=k"


def test_an_unreachable_catalog_names_the_setting_without_the_password(tmp_path):
    import logging

    from warehouse.lock import writer_lock

    lake = Lake("dbname=k host=127.0.0.1 port=1 user=u password=s3cret connect_timeout=2", "/", tmp_path)
    with pytest.raises(RuntimeError, match="DuckLake catalog unreachable") as err:
        with writer_lock(lake, logging.getLogger("t")):
            pass
    assert "KCITY_DUCKLAKE_CATALOG" in str(err.value) and "s3cret" not in str(err.value)
