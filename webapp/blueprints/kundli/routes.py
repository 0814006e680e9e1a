"""My kundli: the signed-in person's chart as a page (printable) and as JSON, their chart settings,
and the places the account form's birth place autocompletes from."""

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from ...models import utcnow
from ...services.astrology import birth_chart, kundli, places
from ...templating import wants_partial
from . import bp
from .forms import ChartSettingsForm

NO_DETAILS = _l("Add your date and place of birth on the account page to see your chart.")


def _settings_form(formdata=None):
    profile = current_user.profile
    form = ChartSettingsForm(
        formdata=formdata,
        chart_style=birth_chart.setting(profile, "chart_style"),
        chart_ayanamsa=birth_chart.setting(profile, "chart_ayanamsa"),
        chart_node=birth_chart.setting(profile, "chart_node"),
        shared=birth_chart.is_shared(profile),
    )
    return form


def _page(form, status=200):
    profile = current_user.profile
    return render_template(
        "kundli/mine.html",
        chart=birth_chart.chart_of(profile),
        chart_style=birth_chart.setting(profile, "chart_style"),
        form=form,
        now=utcnow(),
    ), status


@bp.get("/kundli")
@login_required
def mine():
    return _page(_settings_form())


@bp.post("/kundli")
@login_required
def settings():
    form = _settings_form(request.form)
    if not form.validate_on_submit():
        return _page(form, 422)
    birth_chart.save_settings(
        current_user.id,
        style=form.chart_style.data,
        ayanamsa=form.chart_ayanamsa.data,
        node=form.chart_node.data,
        shared=form.shared.data,
    )
    flash(gettext("Your chart settings are saved."), "success")
    return redirect(url_for("kundli.mine"), code=303)


@bp.get("/kundli.json")
@login_required
def as_json():
    chart = birth_chart.chart_of(current_user.profile)
    if chart is None:
        return jsonify(error="no_birth_details", message=NO_DETAILS), 404
    return jsonify(kundli.as_json(chart, utcnow()))


@bp.get("/places")
@login_required
def place_options():
    """Places for the birth place field (?q=, at least two letters): JSON [{label, latitude,
    longitude, time_zone}] when asked for, else the <option>s of its datalist (htmx)."""
    found = places.search((request.args.get("q") or request.args.get("birth_place") or "")[:80])
    if request.accept_mimetypes.best == "application/json" and not wants_partial():
        return jsonify(
            [
                {"label": p.label, "latitude": p.latitude, "longitude": p.longitude, "time_zone": p.time_zone}
                for p in found
            ]
        )
    return render_template("kundli/_place_options.html", places=found)
