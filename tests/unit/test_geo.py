"""Known-answer tests for the geohash module.

Vectors come from published sources (Wikipedia's geohash article, the test suites of
chrisveness/latlon-geohash, davidmoten/geo, Geo::Hash and dart_geo) and, for San Francisco,
from an independent exact-fraction encoder; each is cited next to its use.
"""

from __future__ import annotations

import math

import pytest

from harvest.domain import geo
from harvest.domain.errors import FieldError, InvalidGeohash, ValidationFailed

# (lat, lon, precision, expected, source)
KNOWN_ENCODINGS = [
    (57.64911, 10.40744, 11, "u4pruydqqvj", "Wikipedia"),
    (42.6, -5.6, 5, "ezs42", "Wikipedia"),
    (57.648, 10.410, 6, "u4pruy", "chrisveness/latlon-geohash"),
    (-25.38262, -49.26561, 8, "6gkzwgjz", "chrisveness/latlon-geohash"),
    (-25.382708, -49.265506, 12, "6gkzwgjzn820", "davidmoten/geo (geohash.org)"),
    (38.89710201881826, -77.03669792041183, 12, "dqcjqcp84c6e", "davidmoten/geo"),
    (37.7749, -122.4194, 7, "9q8yyk8", "exact Fraction encoder"),
]


@pytest.mark.parametrize(
    ("lat", "lon", "precision", "expected"),
    [case[:4] for case in KNOWN_ENCODINGS],
    ids=[case[3] for case in KNOWN_ENCODINGS],
)
def test_encode_known_point_gives_published_hash(
    lat: float, lon: float, precision: int, expected: str
) -> None:
    assert geo.encode(lat, lon, precision) == expected


def test_bounds_of_ezs42_match_wikipedia_interval() -> None:
    # Wikipedia: ezs42 spans lat 42.583..42.627, lon -5.625..-5.581; the edges are dyadic.
    box = geo.bounds("ezs42")

    assert box == geo.Box(42.5830078125, 42.626953125, -5.625, -5.5810546875)
    assert box.centre == pytest.approx((42.605, -5.603), abs=1e-3)


def test_decode_returns_cell_centre_and_accepts_uppercase() -> None:
    assert geo.decode("U4PRUYDQQVJ") == geo.bounds("u4pruydqqvj").centre
    assert geo.decode("u4pruydqqvj") == pytest.approx((57.64911, 10.40744), abs=1e-6)


def test_encode_poles_and_antimeridian_land_in_edge_cells() -> None:
    assert geo.encode(90.0, 180.0, 2) == "zz"
    assert geo.encode(-90.0, -180.0, 2) == "00"
    assert geo.bounds("zz").lon_max == 180.0
    assert geo.bounds("00").lon_min == -180.0


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("abc!", "not a geohash"),
        ("a", "not a geohash"),  # a, i, l, o are not in the alphabet
        ("u4\u212a", "not a geohash"),  # Kelvin sign lowercases to ASCII "k"
        ("", "precision must be between 1 and 12"),
        ("u4pruydqqvjxy", "precision must be between 1 and 12"),
    ],
)
def test_validate_geohash_rejects_bad_input_with_reason(value: str, reason: str) -> None:
    with pytest.raises(InvalidGeohash) as caught:
        geo.validate_geohash(value)

    assert caught.value.errors == [FieldError("geohash", reason, "invalid_geohash")]


def test_validate_geohash_enforces_requested_precision_range() -> None:
    with pytest.raises(InvalidGeohash) as caught:
        geo.validate_geohash("u4pruyd", min_precision=4, max_precision=6)

    assert caught.value.errors[0].msg == "precision must be between 4 and 6"
    assert geo.validate_geohash("U4PRU", min_precision=4, max_precision=6) == "u4pru"


def test_bounds_rejects_invalid_geohash() -> None:
    with pytest.raises(InvalidGeohash):
        geo.bounds("abc!")


@pytest.mark.parametrize(
    ("lat", "lon", "bad"),
    [
        (90.5, 0.0, ["location.lat"]),
        (-91.0, 0.0, ["location.lat"]),
        (0.0, 180.01, ["location.lon"]),
        (math.nan, math.inf, ["location.lat", "location.lon"]),
    ],
)
def test_validate_point_names_each_out_of_range_field(
    lat: float, lon: float, bad: list[str]
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        geo.validate_point(lat, lon)

    assert [error.loc for error in caught.value.errors] == bad


def test_validate_point_accepts_closed_ranges() -> None:
    for lat, lon in [(90.0, 180.0), (-90.0, -180.0), (0.0, 0.0)]:
        geo.validate_point(lat, lon)


def test_encode_rejects_out_of_range_point_and_precision() -> None:
    with pytest.raises(ValidationFailed):
        geo.encode(100.0, 0.0)
    with pytest.raises(ValueError, match="precision"):
        geo.encode(0.0, 0.0, 13)


@pytest.mark.parametrize(
    ("cell", "direction", "expected"),
    [
        # dart_geo test suite
        ("u1pb", "n", "u1pc"),
        ("u1pb", "s", "u0zz"),
        ("u1pb", "e", "u300"),
        ("u1pb", "w", "u1p8"),
        # Geo::Hash test suite
        ("xn76gg", "e", "xn76u5"),
        ("xn76gg", "w", "xn76ge"),
        ("xn76gg", "n", "xn76gu"),
        ("xn76gg", "s", "xn76gf"),
    ],
)
def test_adjacent_matches_published_examples(
    cell: str, direction: geo.Direction, expected: str
) -> None:
    assert geo.adjacent(cell, direction) == expected


def test_adjacent_wraps_across_antimeridian() -> None:
    # Geo::Hash edge cases: "00" west -> "pb", "zz" east -> "bp".
    assert geo.adjacent("00", "w") == "pb"
    assert geo.adjacent("zz", "e") == "bp"
    assert geo.bounds("pb").lon_max == 180.0
    assert geo.bounds("bp").lon_min == -180.0


def test_adjacent_beyond_a_pole_clamps_to_the_same_cell() -> None:
    # Unlike table-based libraries (which wrap "zz" north to "pb"), there is no row past 90.
    assert geo.adjacent("zz", "n") == "zz"
    assert geo.adjacent("00", "s") == "00"


def test_adjacent_rejects_unknown_direction() -> None:
    with pytest.raises(ValueError, match="direction"):
        geo.adjacent("u1pb", "x")  # type: ignore[arg-type]


def test_neighbours_of_ezzz_match_latlon_geohash() -> None:
    # chrisveness/latlon-geohash: n, ne, e, se, s, sw, w, nw
    expected = ["gbpb", "u000", "spbp", "spbn", "ezzy", "ezzw", "ezzx", "gbp8"]

    assert geo.neighbours("ezzz") == expected


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        # Geo::Hash test suite
        (
            "xn76gg",
            {"xn76gu", "xn76uh", "xn76u5", "xn76u4", "xn76gf", "xn76gd", "xn76ge", "xn76gs"},
        ),
        # geohashTools (R) test suite
        (
            "w0zpp8",
            {"w0znzr", "w0znzx", "w0znzz", "w0zpp2", "w0zppb", "w0zpp3", "w0zpp9", "w0zppc"},
        ),
    ],
)
def test_neighbours_match_published_sets(cell: str, expected: set[str]) -> None:
    assert set(geo.neighbours(cell)) == expected


def _offset_neighbours(cell: str) -> set[str]:
    """Independent route: encode the points one cell height/width away from the centre."""
    box = geo.bounds(cell)
    lat, lon = box.centre
    height, width = box.lat_max - box.lat_min, box.lon_max - box.lon_min
    found = set()
    for d_lat in (-1, 0, 1):
        for d_lon in (-1, 0, 1):
            shifted_lon = (lon + d_lon * width + 180.0) % 360.0 - 180.0
            shifted_lat = min(max(lat + d_lat * height, -90.0), 90.0)
            found.add(geo.encode(shifted_lat, shifted_lon, len(cell)))
    return found - {cell}


@pytest.mark.parametrize(
    ("cell", "count"),
    [("u1pb", 8), ("9q8yyk8", 8), ("2pbpb", 8), ("xbpbp", 8), ("pb", 5), ("00", 5)],
)
def test_neighbours_agree_with_encoding_offset_points(cell: str, count: int) -> None:
    result = geo.neighbours(cell)

    assert set(result) == _offset_neighbours(cell)
    assert len(result) == count


def test_neighbours_in_polar_row_are_unique_and_exclude_self() -> None:
    result = geo.neighbours("b")  # top-left cell at precision 1

    assert sorted(result) == ["8", "9", "c", "x", "z"]
    assert len(set(result)) == len(result)


def test_haversine_london_to_paris_is_about_343_km() -> None:
    distance = geo.haversine_km(51.5074, -0.1278, 48.8566, 2.3522)

    assert distance == pytest.approx(343.5, abs=0.5)
    assert geo.haversine_km(48.8566, 2.3522, 51.5074, -0.1278) == pytest.approx(distance)


def test_haversine_degenerate_and_antipodal_points() -> None:
    assert geo.haversine_km(10.0, 20.0, 10.0, 20.0) == 0.0
    half_circumference = math.pi * geo.EARTH_RADIUS_KM
    assert geo.haversine_km(0.0, 0.0, 0.0, 180.0) == pytest.approx(half_circumference)
    assert geo.haversine_km(90.0, 0.0, -90.0, 0.0) == pytest.approx(half_circumference)


def test_cell_size_matches_published_table_and_shrinks_with_latitude() -> None:
    # Common geohash tables: precision 4 is 39.1 km x 19.5 km, precision 5 is 4.89 x 4.89.
    assert geo.cell_size_km(4, 0.0) == pytest.approx((19.5, 39.1), abs=0.1)
    assert geo.cell_size_km(5, 0.0) == pytest.approx((4.89, 4.89), abs=0.01)
    height, width = geo.cell_size_km(5, 60.0)
    assert (height, width) == pytest.approx((4.89, 4.89 / 2), abs=0.01)


@pytest.mark.parametrize(
    ("radius_km", "lat", "expected"),
    [
        (1.0, 0.0, 5),  # p6 is only 0.61 km tall
        (1.0, 60.0, 5),  # p5 is still 2.4 km wide at 60 degrees
        (5.0, 0.0, 4),  # p5 is 4.89 km tall, just short of 5
        (5.0, 60.0, 4),
        (20.0, 0.0, 3),  # p4 is 19.5 km tall, just short of 20
        (20.0, 60.0, 3),
        (50.0, 0.0, 3),
        (50.0, 60.0, 3),  # p3 is 78 km wide at 60 degrees
    ],
)
def test_search_precision_for_common_radii(radius_km: float, lat: float, expected: int) -> None:
    assert geo.search_precision(radius_km, lat) == expected


def test_search_precision_respects_bounds_and_falls_back_to_coarsest() -> None:
    assert geo.search_precision(0.01, 0.0, finest=6) == 6
    assert geo.search_precision(1000.0, 0.0, coarsest=3) == 3
    assert geo.search_precision(1.0, 89.999) == 1  # the circle contains the pole
    with pytest.raises(ValueError, match="coarsest"):
        geo.search_precision(1.0, 0.0, finest=2, coarsest=3)
    with pytest.raises(ValueError, match="radius"):
        geo.search_precision(-1.0, 0.0)


def test_covering_cells_is_centre_plus_neighbours_sorted() -> None:
    precision, cells = geo.covering_cells(37.7749, -122.4194, 1.0)
    centre = geo.encode(37.7749, -122.4194, precision)

    assert precision == 5
    assert cells == sorted({centre, *geo.neighbours(centre)})
    assert len(cells) == 9


def test_covering_cells_across_antimeridian_include_both_sides() -> None:
    precision, cells = geo.covering_cells(0.0, 179.99, 5.0)

    assert precision == 4
    assert geo.encode(0.0, -179.99, precision) in cells
    assert geo.encode(0.0, 179.99, precision) in cells


def test_covering_cells_over_a_pole_returns_the_whole_polar_row() -> None:
    precision, cells = geo.covering_cells(89.999, 10.0, 1.0)

    assert precision == 1
    assert cells == ["b", "c", "f", "g", "u", "v", "y", "z"]
    for lon in (-180.0, -90.0, 0.0, 90.0, 180.0):
        assert geo.encode(89.9999, lon, 1) in cells


def test_covering_cells_refuses_to_enumerate_a_huge_fallback() -> None:
    with pytest.raises(ValueError, match="too large"):
        geo.covering_cells(0.0, 0.0, 15000.0, finest=7, coarsest=5)


def test_approximate_returns_rounded_cell_centre() -> None:
    lat, lon = geo.approximate(52.205, 0.119)
    centre = geo.decode(geo.encode(52.205, 0.119, 5))

    assert (lat, lon) == (round(centre[0], 4), round(centre[1], 4))
    assert geo.encode(lat, lon, 5) == geo.encode(52.205, 0.119, 5)
    assert (lat, lon) != (52.205, 0.119)
