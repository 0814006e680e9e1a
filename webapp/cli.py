"""Operator commands (`flask --app webapp <command>`); each commits its own work."""

import json
from datetime import datetime

import click

from .extensions import db
from .models import utcnow
from .services.astrology import kundli
from .services.money import ledger_checker


def register(app):
    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Only when the database has no users yet (used by `make run`).")
    def seed_demo_command(if_empty):
        """Load the demo data of CONTRACT.md; safe to run again."""
        from .models import User
        from .services.demo_data import DEMO_LOGINS, seed_demo

        if if_empty and db.session.execute(db.select(User.id).limit(1)).first():
            click.echo("Database already has data; demo data not loaded.")
            _echo_logins(DEMO_LOGINS)
            return
        summary = seed_demo()
        db.session.commit()
        click.echo(f"Demo data ready: {summary.astrologers} astrologers ({summary.created} records created).")
        _echo_logins(summary.logins)

    @app.cli.group("billing")
    def billing_group():
        """The periodic billing pass (webapp/scheduler.py)."""

    @billing_group.command("run")
    @click.option("--once", is_flag=True, help="Run one pass and exit (cron, tests).")
    def billing_run_command(once):
        """Run the billing loop (set RUN_BILLING_IN_PROCESS=0 on the web processes)."""
        from .scheduler import run_pass, run_until_signalled

        if once:
            click.echo(f"billing pass: {run_pass(app)}")
            return
        click.echo(f"billing loop running every {app.config['BILLING_POLL_SECONDS']}s (Ctrl-C or SIGTERM stops)")
        run_until_signalled(app)
        click.echo("billing loop stopped")

    @app.cli.group("users")
    def users_group():
        """Users from the main backend."""

    @users_group.command("import")
    @click.argument("path", type=click.File("r", encoding="utf-8"))
    def users_import_command(path):
        """Upsert users from a JSON-lines FILE (the sync API's record shape), in batches of 500."""
        import json
        from collections import Counter

        from .services.users import user_sync

        lines = [(number, line) for number, line in enumerate(path, start=1) if line.strip()]
        counts, failures = Counter(), []
        with click.progressbar(length=len(lines), label="Importing users") as progress:
            for start in range(0, len(lines), user_sync.BATCH_MAX):
                chunk, records = lines[start : start + user_sync.BATCH_MAX], []
                for number, line in chunk:
                    try:
                        records.append((number, json.loads(line)))
                    except ValueError:
                        counts["error"] += 1
                        failures.append((number, user_sync.Result(None, "error", {"line": "not valid JSON"})))
                results = user_sync.sync([record for _, record in records])
                for (number, _), result in zip(records, results, strict=True):
                    counts[result.status] += 1
                    if result.status == "error":
                        failures.append((number, result))
                progress.update(len(chunk))
        failures.sort(key=lambda failure: failure[0])
        click.echo(", ".join(f"{counts[s]} {s}" for s in ("created", "updated", "unchanged", "error")))
        for number, result in failures[:20]:
            click.echo(f"  line {number} ({result.external_id}): {result.errors}")
        if failures:
            raise SystemExit(1)

    @app.cli.group("ledger")
    def ledger_group():
        """The money ledger."""

    @ledger_group.command("verify")
    def ledger_verify_command():
        """Check every ledger invariant; exit 1 on any breach."""

        report = ledger_checker.record("command")
        db.session.commit()  # the result, for the admin overview
        for line in report.lines():
            click.echo(line)
        if not report.ok:
            raise SystemExit(1)

    @app.cli.group("jobs")
    def jobs_group():
        """Background jobs (e-mail receipts)."""

    @jobs_group.command("work")
    @click.option("--burst", is_flag=True, help="Stop when the queue is empty (tests, cron).")
    def jobs_work_command(burst):
        """Work the job queue on REDIS_URL (without Redis, jobs run inside the web process)."""
        if not app.config.get("REDIS_URL"):
            raise click.UsageError("REDIS_URL is not set: jobs run inside the web process, no worker is needed")
        from .worker import work

        click.echo(f"job worker on queue {app.config['JOB_QUEUE']} (Ctrl-C stops)")
        work(app, burst=burst)

    @app.cli.command("kundli")
    @click.option("--utc", "moment", required=True, help="The birth moment in UTC, e.g. 1990-05-17T03:25:00Z.")
    @click.option(
        "--lat", "latitude", type=click.FloatRange(-89.999, 89.999), required=True, help="Latitude, north positive."
    )
    @click.option(
        "--lon", "longitude", type=click.FloatRange(-180, 180), required=True, help="Longitude, east positive."
    )
    @click.option("--ayanamsa", type=click.Choice(sorted(kundli.AYANAMSAS)), default="lahiri", show_default=True)
    @click.option("--node", type=click.Choice(kundli.NODES), default="mean", show_default=True)
    def kundli_command(moment, latitude, longitude, ayanamsa, node):
        """Print the birth chart for a moment and a place as JSON (docs/CONTRACT.md, "The birth chart")."""
        try:
            parsed = datetime.fromisoformat(moment.replace("Z", "+00:00"))
        except ValueError:
            raise click.BadParameter("give an ISO 8601 time such as 1990-05-17T03:25:00Z", param_hint="--utc") from None
        if parsed.tzinfo is None:
            raise click.BadParameter("say the zone: end the time with Z (UTC) or an offset", param_hint="--utc")
        chart = kundli.compute(parsed, latitude, longitude, ayanamsa_system=ayanamsa, node=node)
        click.echo(json.dumps(kundli.as_json(chart, utcnow()), indent=2, ensure_ascii=False))


def _echo_logins(logins):
    click.echo("Demo logins (development only):")
    for email, password in logins:
        click.echo(f"  {email:<22} password: {password}")
    click.echo("  astrologer01..48@example.com, the catalogue, share the same password")
