"""The migrations and the models describe the same schema (no drift), and downgrade cleanly."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from webapp.extensions import db
from webapp.models.types import alembic_compare_type


def test_models_and_migrated_schema_do_not_drift(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": alembic_compare_type})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_flask_db_check_finds_nothing(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output


def test_migrations_downgrade_and_upgrade_again(tmp_path):
    from flask_migrate import downgrade, upgrade

    from webapp import create_app
    from webapp.config import TestConfig

    app = create_app(TestConfig(f"sqlite:///{tmp_path}/roundtrip.db"))
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        assert db.inspect(db.engine).get_table_names() == ["alembic_version"]
        upgrade()
        assert "wallets" in db.inspect(db.engine).get_table_names()
