"""Operator commands (`flask --app webapp <command>`); each commits its own work."""
import click

from .extensions import db


def register(app):
    @app.cli.command("seed-demo")
    def seed_demo_command():
        """Load the demo data of CONTRACT.md; safe to run again."""
        from .services.demo_data import seed_demo

        summary = seed_demo()
        db.session.commit()
        click.echo(f"Demo data ready: {summary.astrologers} astrologers ({summary.created} records created).")
        click.echo("Demo logins:")
        for email, password in summary.logins:
            click.echo(f"  {email:<22} password: {password}")
