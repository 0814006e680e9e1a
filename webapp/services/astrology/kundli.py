"""The birth chart (kundli): sidereal positions, the ascendant and houses, nakshatras and the
Vimshottari dasha, from a moment (UTC) and a place. No database; services/astrology/birth_chart.py feeds it
a person's birth details.

The astronomy is Astronomy Engine (MIT; VSOP87 planets, a full lunar theory, IAU 2000B nutation):
apparent geocentric positions (light time and aberration) on the true ecliptic and equinox of
date, as the Swiss Ephemeris gives them by default. The Swiss Ephemeris itself is AGPL and never
imported here; it is the test suite's oracle (tests/unit/test_kundli.py: planets within 1
arcminute, the ascendant within 2, for births 1900-2100).

- Delta T (TT - UT) is what makes a Moon position from a civil time right: observed values
  (5-yearly, 1900-2025, from the IERS/USNO series) interpolated, and after 2025 the mean rate of
  1990-2025 (0.35 s a year) carried on; before 1900 the 1900 value. Astronomy Engine's own
  polynomial runs ahead of observation by minutes late this century.
- Ayanamsa: the precession in longitude since the system's zero point (IAU 2006 general
  precession) added to its value there. Lahiri (Chitrapaksha, the Indian Astronomical
  Ephemeris' definition: 23.245524743 degrees at 1956-03-21), Raman and Krishnamurti (KP).
- Rahu: the Moon's mean ascending node (Meeus / ELP) or its true, osculating node (from the
  Moon's position and velocity); Ketu is opposite. Both move backwards: always retrograde.
- Ascendant (lagna): the ecliptic point rising in the east, from apparent sidereal time, the
  true obliquity and the latitude. Houses are whole signs from the ascendant's sign.
- Vimshottari: 120 years over nine lords, starting with the lord of the Moon's nakshatra for
  the part of it not yet traversed; antardashas in the same order from the period's own lord,
  each lasting lord_years x sub_years / 120 of the period; years of 365.25 days.
"""

import bisect
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import astronomy
from astronomy.astronomy import _e_tilt  # IAU 2000B nutation: see _tilt
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from ..messaging.system_lines import N_

SIGNS = (
    (N_("Aries"), "Mesha"),
    (N_("Taurus"), "Vrishabha"),
    (N_("Gemini"), "Mithuna"),
    (N_("Cancer"), "Karka"),
    (N_("Leo"), "Simha"),
    (N_("Virgo"), "Kanya"),
    (N_("Libra"), "Tula"),
    (N_("Scorpio"), "Vrishchika"),
    (N_("Sagittarius"), "Dhanu"),
    (N_("Capricorn"), "Makara"),
    (N_("Aquarius"), "Kumbha"),
    (N_("Pisces"), "Meena"),
)
NAKSHATRAS = (
    N_("Ashwini"), N_("Bharani"), N_("Krittika"), N_("Rohini"), N_("Mrigashira"), N_("Ardra"), N_("Punarvasu"),
    N_("Pushya"), N_("Ashlesha"), N_("Magha"), N_("Purva Phalguni"), N_("Uttara Phalguni"), N_("Hasta"),
    N_("Chitra"), N_("Swati"), N_("Vishakha"), N_("Anuradha"), N_("Jyeshtha"), N_("Mula"), N_("Purva Ashadha"),
    N_("Uttara Ashadha"), N_("Shravana"), N_("Dhanishta"), N_("Shatabhisha"), N_("Purva Bhadrapada"),
    N_("Uttara Bhadrapada"), N_("Revati"),
)  # fmt: skip
NAKSHATRA_SPAN = 360 / 27
PADA_SPAN = NAKSHATRA_SPAN / 4
#: The Vimshottari lords in order, with their years; the lord of nakshatra n is DASHA[n % 9].
DASHA = (
    ("Ketu", 7), ("Venus", 20), ("Sun", 6), ("Moon", 10), ("Mars", 7),
    ("Rahu", 18), ("Jupiter", 16), ("Saturn", 19), ("Mercury", 17),
)  # fmt: skip
DASHA_YEARS = 120
YEAR_DAYS = 365.25
PLANETS = (
    N_("Sun"), N_("Moon"), N_("Mars"), N_("Mercury"), N_("Jupiter"), N_("Venus"), N_("Saturn"), N_("Rahu"), N_("Ketu"),
)  # fmt: skip
#: The lunar nodes: always retrograde, so never marked (R).
NODE_NAMES = ("Rahu", "Ketu")
_BODIES = {name: getattr(astronomy.Body, name) for name in PLANETS[:7]}
#: Ayanamsa systems: (zero point as a Julian date (TT), the ayanamsa there in degrees).
AYANAMSAS = {
    "lahiri": (2435553.5, 23.245524743),
    "raman": (2415020.0, 21.01444),
    "krishnamurti": (2415020.0, 22.363889),
}
AYANAMSA_NAMES = {"lahiri": _l("Lahiri"), "raman": _l("Raman"), "krishnamurti": _l("Krishnamurti")}
NODES = ("mean", "true")
J2000 = 2451545.0

# ---------------------------------------------------------------- time


_DT_YEARS = tuple(range(1900, 2030, 5))
_DT_SECONDS = (
    -2.79, 3.86, 10.46, 17.20, 21.16, 23.62, 24.02, 23.93, 24.33, 26.77, 29.15, 31.07, 33.15,
    35.73, 40.18, 45.48, 50.54, 54.34, 56.86, 60.78, 63.83, 64.69, 66.07, 67.64, 69.36, 69.20,
)  # fmt: skip
DT_RATE_AFTER = 0.35  # seconds a year after the last observed value


def delta_t(year):
    """TT - UT in seconds at a (fractional) year."""
    if year <= _DT_YEARS[0]:
        return _DT_SECONDS[0]
    if year >= _DT_YEARS[-1]:
        return _DT_SECONDS[-1] + DT_RATE_AFTER * (year - _DT_YEARS[-1])
    i = bisect.bisect_right(_DT_YEARS, year) - 1
    fraction = (year - _DT_YEARS[i]) / 5
    return _DT_SECONDS[i] + fraction * (_DT_SECONDS[i + 1] - _DT_SECONDS[i])


def instant(moment):
    """An Astronomy Engine Time for an aware datetime, with this module's Delta T."""
    ut = (moment.astimezone(UTC) - datetime(2000, 1, 1, 12, tzinfo=UTC)).total_seconds() / 86400
    return astronomy.Time(ut, ut + delta_t(2000 + ut / 365.25) / 86400)


def _later(time, days):
    return astronomy.Time(time.ut + days, time.tt + days)


# ---------------------------------------------------------------- positions


def _general_precession(t_centuries):
    """IAU 2006 general precession in longitude (arcseconds) at Julian centuries of TT from J2000."""
    t = t_centuries
    return 5028.796195 * t + 1.1054348 * t**2 + 0.00007964 * t**3 - 0.000023857 * t**4 - 0.0000000383 * t**5


def ayanamsa(time, system="lahiri"):
    zero_jd, at_zero = AYANAMSAS[system]
    since = _general_precession(time.tt / 36525) - _general_precession((zero_jd - J2000) / 36525)
    return at_zero + since / 3600


def _of_date(vector, time):
    """Longitude (degrees) of a J2000 equatorial vector on the true ecliptic of date."""
    return astronomy.SphereFromVector(astronomy.RotateVector(astronomy.Rotation_EQJ_ECT(time), vector)).lon % 360


def _tilt(time):
    """(nutation in longitude in degrees, true obliquity in degrees): Astronomy Engine's IAU 2000B
    nutation, which it keeps behind a private name (the version is pinned; tests/unit/test_kundli.py
    would catch a change)."""
    tilt = _e_tilt(time)
    return tilt.dpsi / 3600, tilt.tobl


def tropical_longitude(name, time, node="mean"):
    """Longitude from the mean equinox of date: the true (apparent) longitude less the nutation, as
    sidereal zodiacs are measured (the ayanamsa is a mean quantity)."""
    if name in _BODIES:
        return (_of_date(astronomy.GeoVector(_BODIES[name], time, True), time) - _tilt(time)[0]) % 360
    if node == "true":
        rahu = (_true_node(time) - _tilt(time)[0]) % 360
    else:
        rahu = _mean_node(time)  # the mean node is a mean-equinox quantity already
    return rahu if name == "Rahu" else (rahu + 180) % 360


def _mean_node(time):
    t = time.tt / 36525
    return (125.0445479 - 1934.1362891 * t + 0.0020754 * t**2 + t**3 / 467441 - t**4 / 60616000) % 360


def _true_node(time):
    """The osculating ascending node: where the plane of the Moon's momentary orbit crosses the ecliptic."""
    state = astronomy.GeoMoonState(time)
    rotation = astronomy.Rotation_EQJ_ECT(time)
    r = astronomy.RotateVector(rotation, astronomy.Vector(state.x, state.y, state.z, time))
    v = astronomy.RotateVector(rotation, astronomy.Vector(state.vx, state.vy, state.vz, time))
    hx, hy = r.y * v.z - r.z * v.y, r.z * v.x - r.x * v.z
    return math.degrees(math.atan2(hx, -hy)) % 360


def tropical_ascendant(time, latitude, longitude):
    """The rising ecliptic point from apparent sidereal time and the true obliquity, measured (like the
    planets) from the mean equinox of date."""
    nutation, obliquity = _tilt(time)
    ramc = math.radians((astronomy.SiderealTime(time) * 15 + longitude) % 360)
    eps, phi = math.radians(obliquity), math.radians(latitude)
    rising = math.degrees(math.atan2(math.cos(ramc), -(math.sin(ramc) * math.cos(eps) + math.tan(phi) * math.sin(eps))))
    return (rising - nutation) % 360


# ---------------------------------------------------------------- the chart


def sign_of(longitude):
    return int(longitude // 30) % 12


def dms(degrees):
    """14.0833 -> '14°05′' (degrees and whole minutes within a sign, as charts write them)."""
    minutes = int(round(degrees * 60))
    return f"{minutes // 60}°{minutes % 60:02d}′"


@dataclass(frozen=True)
class Position:
    longitude: float  # sidereal, 0..360
    retrograde: bool
    house: int | None  # whole-sign house from the ascendant; None without a birth time

    @property
    def sign(self):
        return sign_of(self.longitude)

    @property
    def degree(self):
        return self.longitude % 30

    @property
    def nakshatra(self):
        return int(self.longitude // NAKSHATRA_SPAN) % 27

    @property
    def pada(self):
        return int((self.longitude % NAKSHATRA_SPAN) // PADA_SPAN) + 1


@dataclass(frozen=True)
class Period:
    lord: str
    start: datetime
    end: datetime
    antardashas: tuple = ()

    def contains(self, moment):
        return self.start <= moment < self.end


@dataclass(frozen=True)
class Chart:
    moment: datetime  # UTC
    latitude: float
    longitude: float
    ayanamsa_system: str
    node: str
    time_known: bool
    ayanamsa: float
    ascendant: float | None  # sidereal
    planets: dict  # name -> Position, in PLANETS order
    dasha: tuple = field(default=())

    @property
    def moon_sign(self):
        return self.planets["Moon"].sign

    @property
    def birth_nakshatra(self):
        return self.planets["Moon"].nakshatra

    def current(self, now):
        """(mahadasha, antardasha) running at `now`, or (None, None) past the 120 years."""
        for period in self.dasha:
            if period.contains(now):
                return period, next((sub for sub in period.antardashas if sub.contains(now)), None)
        return None, None


def _retrograde(name, time, node):
    if name in ("Rahu", "Ketu"):
        return True
    if name in ("Sun", "Moon"):
        return False
    before, after = (tropical_longitude(name, _later(time, d), node) for d in (-0.5 / 24, 0.5 / 24))
    return ((after - before + 540) % 360) - 180 < 0


def _dasha(moon_longitude, birth):
    """The Vimshottari mahadashas from birth (the first cut to what is left of it), each with its antardashas."""
    index = int(moon_longitude // NAKSHATRA_SPAN) % 27
    traversed = (moon_longitude % NAKSHATRA_SPAN) / NAKSHATRA_SPAN
    first = index % 9
    start = birth - timedelta(days=traversed * DASHA[first][1] * YEAR_DAYS)  # when the first period began
    periods = []
    for step in range(9):
        lord, years = DASHA[(first + step) % 9]
        end = start + timedelta(days=years * YEAR_DAYS)
        subs, sub_start = [], start
        for sub_step in range(9):
            sub_lord, sub_years = DASHA[(first + step + sub_step) % 9]
            sub_end = sub_start + timedelta(days=years * sub_years / DASHA_YEARS * YEAR_DAYS)
            if sub_end > birth:
                subs.append(Period(sub_lord, max(sub_start, birth), sub_end))
            sub_start = sub_end
        periods.append(Period(lord, max(start, birth), end, tuple(subs)))
        start = end
    return tuple(periods)


def compute(moment, latitude, longitude, *, ayanamsa_system="lahiri", node="mean", time_known=True):
    """The chart for an aware datetime at a place. Without a known birth time (`time_known` False,
    `moment` then being the day's local noon) it has no ascendant and no houses."""
    if ayanamsa_system not in AYANAMSAS:
        raise ValueError(f"ayanamsa must be one of {', '.join(AYANAMSAS)}")
    if node not in NODES:
        raise ValueError("node must be mean or true")
    if not (-90 < latitude < 90 and -180 <= longitude <= 180):
        raise ValueError("latitude must be within -90..90 and longitude within -180..180")
    return _compute(moment.astimezone(UTC), round(latitude, 5), round(longitude, 5), ayanamsa_system, node, time_known)


@lru_cache(maxsize=512)
def _compute(moment, latitude, longitude, ayanamsa_system, node, time_known):
    """Cached per (birth data, settings): a chart never changes, and a busy room draws it often."""
    time = instant(moment)
    shift = ayanamsa(time, ayanamsa_system)
    ascendant = (tropical_ascendant(time, latitude, longitude) - shift) % 360 if time_known else None
    planets = {}
    for name in PLANETS:
        sidereal = (tropical_longitude(name, time, node) - shift) % 360
        house = (sign_of(sidereal) - sign_of(ascendant)) % 12 + 1 if ascendant is not None else None
        planets[name] = Position(sidereal, _retrograde(name, time, node), house)
    return Chart(
        moment,
        latitude,
        longitude,
        ayanamsa_system,
        node,
        time_known,
        shift,
        ascendant,
        planets,
        _dasha(planets["Moon"].longitude, moment),
    )


# ---------------------------------------------------------------- names as people read them
# The names above are message keys (N_): English (and the Sanskrit beside each sign) in the data and
# the JSON's fields, the reader's language where a person reads them (issue 41).


def sign_name(index):
    """A sign by its name in the reader's language: Aries, मेष."""
    return gettext(SIGNS[index][0])


def planet_name(name):
    """A graha by its name in the reader's language: Sun, सूर्य (dasha lords too)."""
    return gettext(name)


def nakshatra_name(index):
    return gettext(NAKSHATRAS[index])


# ---------------------------------------------------------------- as JSON


def _when(moment):
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _period_json(period, now):
    return {
        "lord": period.lord,
        "lord_name": planet_name(period.lord),
        "start": _when(period.start),
        "end": _when(period.end),
        "current": period.contains(now),
    }


def as_json(chart, now):
    """The chart in the contract's shape (docs/CONTRACT.md, "The birth chart")."""
    ascendant = None
    if chart.ascendant is not None:
        ascendant = {
            "longitude": round(chart.ascendant, 6),
            "sign": SIGNS[sign_of(chart.ascendant)][0],
            "sign_name": sign_name(sign_of(chart.ascendant)),
            "degree": round(chart.ascendant % 30, 6),
        }
    return {
        "utc": _when(chart.moment),
        "latitude": chart.latitude,
        "longitude": chart.longitude,
        "time_known": chart.time_known,
        "settings": {"ayanamsa": chart.ayanamsa_system, "node": chart.node, "houses": "whole_sign"},
        "ayanamsa": round(chart.ayanamsa, 6),
        "ascendant": ascendant,
        "planets": {
            name: {
                "longitude": round(p.longitude, 6),
                "name": planet_name(name),
                "sign": SIGNS[p.sign][0],
                "sign_name": sign_name(p.sign),
                "degree": round(p.degree, 6),
                "retrograde": p.retrograde,
                "nakshatra": NAKSHATRAS[p.nakshatra],
                "nakshatra_name": nakshatra_name(p.nakshatra),
                "pada": p.pada,
                "house": p.house,
            }
            for name, p in chart.planets.items()
        },
        "moon_sign": SIGNS[chart.moon_sign][0],
        "moon_sign_name": sign_name(chart.moon_sign),
        "birth_nakshatra": NAKSHATRAS[chart.birth_nakshatra],
        "birth_nakshatra_name": nakshatra_name(chart.birth_nakshatra),
        "dasha": [
            {**_period_json(period, now), "antardashas": [_period_json(sub, now) for sub in period.antardashas]}
            for period in chart.dasha
        ],
    }
