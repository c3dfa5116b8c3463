"""Property tests for the geohash module: the invariants radius search relies on."""

from __future__ import annotations

import math

from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from harvest.domain import geo

lats = st.floats(min_value=-90.0, max_value=90.0, allow_nan=False)
lons = st.floats(min_value=-180.0, max_value=180.0, allow_nan=False)
precisions = st.integers(min_value=1, max_value=12)


@st.composite
def geohashes(draw: st.DrawFn) -> str:
    return geo.encode(draw(lats), draw(lons), draw(precisions))


def destination(
    lat: float, lon: float, bearing_deg: float, distance_km: float
) -> tuple[float, float]:
    """Spherical direct problem: the point `distance_km` from (lat, lon) along a bearing."""
    phi1, lambda1 = math.radians(lat), math.radians(lon)
    theta, delta = math.radians(bearing_deg), distance_km / geo.EARTH_RADIUS_KM
    sin_phi2 = math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta)
    phi2 = math.asin(max(-1.0, min(1.0, sin_phi2)))
    lambda2 = lambda1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi1),
        math.cos(delta) - math.sin(phi1) * math.sin(phi2),
    )
    lon2 = (math.degrees(lambda2) + 540.0) % 360.0 - 180.0
    return math.degrees(phi2), lon2


def _touch(box: geo.Box, other: geo.Box) -> bool:
    lat_touch = other.lat_min <= box.lat_max and box.lat_min <= other.lat_max
    lon_touch = other.lon_min <= box.lon_max and box.lon_min <= other.lon_max
    wraps = (box.lon_max == 180.0 and other.lon_min == -180.0) or (
        box.lon_min == -180.0 and other.lon_max == 180.0
    )
    return lat_touch and (lon_touch or wraps)


@given(lat=lats, lon=lons, precision=precisions)
def test_encode_then_decode_stays_within_half_a_cell(
    lat: float, lon: float, precision: int
) -> None:
    cell = geo.encode(lat, lon, precision)
    box = geo.bounds(cell)
    centre_lat, centre_lon = geo.decode(cell)

    assert len(cell) == precision
    assert box.lat_min <= lat <= box.lat_max
    assert box.lon_min <= lon <= box.lon_max
    assert abs(centre_lat - lat) <= (box.lat_max - box.lat_min) / 2
    assert abs(centre_lon - lon) <= (box.lon_max - box.lon_min) / 2
    assert geo.encode(centre_lat, centre_lon, precision) == cell


@given(cell=geohashes(), extra=st.text(alphabet=geo.BASE32, max_size=3))
def test_longer_hash_is_inside_its_prefix(cell: str, extra: str) -> None:
    assume(len(cell) + len(extra) <= 12)
    outer, inner = geo.bounds(cell), geo.bounds(cell + extra)

    assert outer.lat_min <= inner.lat_min <= inner.lat_max <= outer.lat_max
    assert outer.lon_min <= inner.lon_min <= inner.lon_max <= outer.lon_max


@given(cell=geohashes())
def test_every_neighbour_touches_the_cell(cell: str) -> None:
    box = geo.bounds(cell)
    found = geo.neighbours(cell)
    polar = box.lat_max == 90.0 or box.lat_min == -90.0

    assert cell not in found
    assert len(set(found)) == len(found)
    assert len(found) == (5 if polar else 8)
    for neighbour in found:
        other = geo.bounds(neighbour)
        assert len(neighbour) == len(cell)
        assert _touch(box, other), (cell, neighbour)


@given(cell=geohashes())
def test_adjacent_north_then_south_returns_home_away_from_poles(cell: str) -> None:
    box = geo.bounds(cell)
    assume(box.lat_max < 90.0 and box.lat_min > -90.0)

    assert geo.adjacent(geo.adjacent(cell, "n"), "s") == cell
    assert geo.adjacent(geo.adjacent(cell, "s"), "n") == cell


@given(cell=geohashes())
def test_adjacent_east_then_west_returns_home_everywhere(cell: str) -> None:
    assert geo.adjacent(geo.adjacent(cell, "e"), "w") == cell
    assert geo.adjacent(geo.adjacent(cell, "w"), "e") == cell


@settings(max_examples=300)
@given(
    lat=st.floats(min_value=-80.0, max_value=80.0),
    lon=lons,
    radius_km=st.floats(min_value=0.1, max_value=50.0),
    bearing=st.floats(min_value=0.0, max_value=360.0),
    fraction=st.floats(min_value=0.0, max_value=1.0),
)
def test_covering_cells_contain_every_point_within_radius(
    lat: float, lon: float, radius_km: float, bearing: float, fraction: float
) -> None:
    point_lat, point_lon = destination(lat, lon, bearing, radius_km * fraction)
    assert geo.haversine_km(lat, lon, point_lat, point_lon) <= radius_km * (1 + 1e-9) + 1e-9

    precision, cells = geo.covering_cells(lat, lon, radius_km)

    assert cells == sorted(set(cells))
    assert geo.encode(point_lat, point_lon, 12)[:precision] in cells


@settings(max_examples=200)
@given(
    lat=lats,
    lon=lons,
    radius_km=st.floats(min_value=0.0, max_value=50.0),
    bearing=st.floats(min_value=0.0, max_value=360.0),
    fraction=st.floats(min_value=0.0, max_value=1.0),
    coarsest=st.integers(min_value=1, max_value=3),
    extra=st.integers(min_value=0, max_value=6),
)
# Found in CI: a point 1e-14 degrees from the pole rounds onto it (any longitude).
@example(
    lat=89.99999999999999,
    lon=0.0,
    radius_km=3.6289928543454937e-233,
    bearing=1.0,
    fraction=1.0,
    coarsest=1,
    extra=0,
)
def test_covering_holds_at_any_latitude_and_precision_range(
    lat: float,
    lon: float,
    radius_km: float,
    bearing: float,
    fraction: float,
    coarsest: int,
    extra: int,
) -> None:
    # Includes polar caps, where no 3x3 block suffices and the fallback has to kick in.
    point_lat, point_lon = destination(lat, lon, bearing, radius_km * fraction)

    precision, cells = geo.covering_cells(
        lat, lon, radius_km, finest=coarsest + extra, coarsest=coarsest
    )

    assert coarsest <= precision <= coarsest + extra
    assert geo.encode(point_lat, point_lon, precision) in cells


@given(lat=lats, lon=lons, precision=st.integers(min_value=1, max_value=8))
def test_approximate_stays_in_the_same_cell(lat: float, lon: float, precision: int) -> None:
    approx_lat, approx_lon = geo.approximate(lat, lon, precision)

    assert geo.encode(approx_lat, approx_lon, precision) == geo.encode(lat, lon, precision)
