"""Geohash cells and great-circle distances.

Listings are indexed by geohash prefix, so a radius search is "query a few prefixes, then
filter by exact distance"; this module picks cells whose union is guaranteed to contain the
circle and supplies the distance. Cells are handled as integer (row, column) indices rather
than neighbour tables, so antimeridian wrapping and pole clamping are plain arithmetic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from harvest.domain.errors import FieldError, InvalidGeohash, ValidationFailed

BASE32 = "0123456789bcdefghjkmnpqrstuvwxyz"
EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius; the error vs. the ellipsoid is < 0.5 %

_MAX_PRECISION = 12  # 60 bits: finer cells are below float resolution of a degree
_KM_PER_DEGREE = math.pi * EARTH_RADIUS_KM / 180.0
_DECODE = {char: index for index, char in enumerate(BASE32)}
_MAX_FALLBACK_CELLS = 1024  # a huge radius at a fine `coarsest` must not list the planet
_FIT_MARGIN = 1.0 + 1e-9  # float noise must not turn a knife-edge fit into a missed cell

Direction = Literal["n", "s", "e", "w"]


@dataclass(frozen=True, slots=True)
class Box:
    lat_min: float
    lat_max: float
    lon_min: float
    lon_max: float

    @property
    def centre(self) -> tuple[float, float]:
        return (self.lat_min + self.lat_max) / 2.0, (self.lon_min + self.lon_max) / 2.0


def validate_geohash(value: str, *, min_precision: int = 1, max_precision: int = 12) -> str:
    """Return ``value`` lowercased, or raise :class:`InvalidGeohash`."""
    if not 1 <= min_precision <= max_precision:
        raise ValueError(f"bad precision range {min_precision}..{max_precision}")
    lowered = value.lower()
    # isascii(): str.lower() maps some non-ASCII letters (e.g. the Kelvin sign) to ASCII
    # ones, which would otherwise sneak through the alphabet check.
    if not value.isascii() or any(char not in _DECODE for char in lowered):
        raise InvalidGeohash(value)
    if not min_precision <= len(lowered) <= max_precision:
        raise InvalidGeohash(
            value, f"precision must be between {min_precision} and {max_precision}"
        )
    return lowered


def validate_point(lat: float, lon: float) -> None:
    """Raise :class:`ValidationFailed` naming every out-of-range coordinate."""
    errors: list[FieldError] = []
    if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
        errors.append(FieldError("location.lat", "latitude must be between -90 and 90"))
    if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
        errors.append(FieldError("location.lon", "longitude must be between -180 and 180"))
    if errors:
        raise ValidationFailed("invalid location", errors)


def _check_precision(precision: int) -> None:
    # A bad precision is a programming error, not client input: ValueError, not a 4xx.
    if not 1 <= precision <= _MAX_PRECISION:
        raise ValueError(f"precision must be between 1 and {_MAX_PRECISION}, got {precision}")


def _bits(precision: int) -> tuple[int, int]:
    """(lat_bits, lon_bits): bits interleave starting with longitude, so lon gets the odd one."""
    total = 5 * precision
    return total // 2, total - total // 2


def _steps_deg(precision: int) -> tuple[float, float]:
    lat_bits, lon_bits = _bits(precision)
    return 180.0 / (1 << lat_bits), 360.0 / (1 << lon_bits)


def _index(value: float, low: float, high: float, bits: int) -> int:
    # Bisection rather than floor((value - low) / step): midpoints are dyadic fractions of
    # 180/360, so every comparison is exact and boundary points land where the spec says.
    index = 0
    for _ in range(bits):
        mid = (low + high) / 2.0
        if value >= mid:
            index, low = index * 2 + 1, mid
        else:
            index, high = index * 2, mid
    return index


def _from_indices(row: int, col: int, precision: int) -> str:
    lat_bits, lon_bits = _bits(precision)
    chars: list[str] = []
    code = 0
    for position in range(5 * precision):
        if position % 2 == 0:
            lon_bits -= 1
            bit = (col >> lon_bits) & 1
        else:
            lat_bits -= 1
            bit = (row >> lat_bits) & 1
        code = code * 2 + bit
        if position % 5 == 4:
            chars.append(BASE32[code])
            code = 0
    return "".join(chars)


def _to_indices(geohash: str) -> tuple[int, int, int]:
    """(row, col, precision) of an already validated, lowercase geohash."""
    row = col = position = 0
    for char in geohash:
        code = _DECODE[char]
        for shift in range(4, -1, -1):
            bit = (code >> shift) & 1
            if position % 2 == 0:
                col = col * 2 + bit
            else:
                row = row * 2 + bit
            position += 1
    return row, col, len(geohash)


def encode(lat: float, lon: float, precision: int = 7) -> str:
    validate_point(lat, lon)
    _check_precision(precision)
    lat_bits, lon_bits = _bits(precision)
    row = _index(lat, -90.0, 90.0, lat_bits)
    col = _index(lon, -180.0, 180.0, lon_bits)
    return _from_indices(row, col, precision)


def bounds(geohash: str) -> Box:
    row, col, precision = _to_indices(validate_geohash(geohash))
    lat_step, lon_step = _steps_deg(precision)
    lat_min, lon_min = -90.0 + row * lat_step, -180.0 + col * lon_step
    return Box(lat_min, lat_min + lat_step, lon_min, lon_min + lon_step)


def decode(geohash: str) -> tuple[float, float]:
    """Centre of the cell: the point with the smallest worst-case error."""
    return bounds(geohash).centre


def _shift(row: int, col: int, precision: int, d_row: int, d_col: int) -> str:
    lat_bits, lon_bits = _bits(precision)
    # Rows clamp because there is nothing beyond a pole; columns wrap because the
    # antimeridian is just a seam in the numbering, not an edge of the world.
    row = min(max(row + d_row, 0), (1 << lat_bits) - 1)
    col = (col + d_col) % (1 << lon_bits)
    return _from_indices(row, col, precision)


_STEPS: dict[str, tuple[int, int]] = {"n": (1, 0), "s": (-1, 0), "e": (0, 1), "w": (0, -1)}


def adjacent(geohash: str, direction: Direction) -> str:
    """The same-size cell next to ``geohash`` in ``direction``.

    East/west wrap across the antimeridian. North of the top row (south of the bottom row)
    there is no cell, so the row is clamped and the cell itself is returned; the caller
    loses nothing, as the top row already reaches the pole.
    """
    if direction not in _STEPS:
        raise ValueError(f"direction must be one of n, s, e, w, got {direction!r}")
    row, col, precision = _to_indices(validate_geohash(geohash))
    d_row, d_col = _STEPS[direction]
    return _shift(row, col, precision, d_row, d_col)


_RING = ((1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1))


def neighbours(geohash: str) -> list[str]:
    """The surrounding cells, clockwise from north; fewer than 8 in the polar rows."""
    own = validate_geohash(geohash)
    row, col, precision = _to_indices(own)
    found: list[str] = []
    for d_row, d_col in _RING:
        cell = _shift(row, col, precision, d_row, d_col)
        # Clamping at a pole folds n/ne/nw onto own/e/w; keep each cell once.
        if cell != own and cell not in found:
            found.append(cell)
    return found


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    # Rounding can push `a` a hair above 1 for antipodal points; asin would then fail.
    return 2.0 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def cell_size_km(precision: int, lat: float) -> tuple[float, float]:
    """(height_km, width_km) of a cell at ``lat``; widths shrink towards the poles."""
    _check_precision(precision)
    lat_step, lon_step = _steps_deg(precision)
    width = lon_step * _KM_PER_DEGREE * max(0.0, math.cos(math.radians(lat)))
    return lat_step * _KM_PER_DEGREE, width


def extent_deg(lat: float, radius_km: float) -> tuple[float, float | None]:
    """Half-extent (lat, lon) in degrees of the circle's bounding box; lon None = all."""
    delta = radius_km / EARTH_RADIUS_KM
    d_lat = math.degrees(delta)
    # The epsilon absorbs float rounding: a point computed 1e-14 degrees from the pole
    # lands on it, where every longitude is the same place.
    if abs(lat) + d_lat >= 90.0 - 1e-9:
        return d_lat, None  # the circle contains a pole, so it spans every meridian
    # Exact spherical bound (tangent meridians), not radius / cos(lat): that flat-earth
    # estimate is too small at high latitudes and would leave gaps in the cover.
    ratio = math.sin(delta) / math.cos(math.radians(lat))
    return d_lat, math.degrees(math.asin(min(1.0, ratio)))


def _fits(precision: int, lat: float, radius_km: float) -> bool:
    """Whether the 3x3 block around a centre at ``lat`` surely holds the circle.

    The centre may sit anywhere in its cell, so one neighbour per side suffices exactly
    when a cell is at least as tall/wide as the circle's half-extent.
    """
    lat_step, lon_step = _steps_deg(precision)
    d_lat, d_lon = extent_deg(lat, radius_km)
    if d_lon is None:
        return False
    return lat_step >= d_lat * _FIT_MARGIN and lon_step >= d_lon * _FIT_MARGIN


def search_precision(radius_km: float, lat: float, *, finest: int = 7, coarsest: int = 1) -> int:
    """Finest precision in [coarsest, finest] whose 3x3 block around ``lat`` holds the circle.

    That is "cell height and width at ``lat`` are both >= radius", with the width measured
    by the circle's true longitude span, which matters near the poles. ``coarsest`` if no
    precision fits (the circle contains a pole or is huge); see :func:`covering_cells`.
    """
    if not 1 <= coarsest <= finest <= _MAX_PRECISION:
        raise ValueError(f"need 1 <= coarsest <= finest <= 12, got {coarsest}, {finest}")
    if not (math.isfinite(radius_km) and radius_km >= 0.0):
        raise ValueError(f"radius must be a finite, non-negative number, got {radius_km}")
    if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
        raise ValueError(f"latitude out of range: {lat}")
    for precision in range(finest, coarsest - 1, -1):
        if _fits(precision, lat, radius_km):
            return precision
    return coarsest


def covering_cells(
    lat: float, lon: float, radius_km: float, *, finest: int = 7, coarsest: int = 1
) -> tuple[int, list[str]]:
    """(precision, cells) whose union contains every point within ``radius_km``.

    Normally the centre's cell plus its neighbours. If no precision fits (a polar cap, or a
    radius wider than a ``coarsest`` cell), every ``coarsest`` cell meeting the circle's
    bounding box is returned instead, so the guarantee always holds.
    """
    validate_point(lat, lon)
    precision = search_precision(radius_km, lat, finest=finest, coarsest=coarsest)
    if _fits(precision, lat, radius_km):
        centre = encode(lat, lon, precision)
        return precision, sorted({centre, *neighbours(centre)})
    return precision, _bounding_cells(lat, lon, radius_km, precision)


def _bounding_cells(lat: float, lon: float, radius_km: float, precision: int) -> list[str]:
    lat_bits, lon_bits = _bits(precision)
    d_lat, d_lon = extent_deg(lat, radius_km)
    low = _index(max(lat - d_lat, -90.0), -90.0, 90.0, lat_bits)
    high = _index(min(lat + d_lat, 90.0), -90.0, 90.0, lat_bits)
    columns = 1 << lon_bits
    if d_lon is None or 2 * d_lon >= 360.0:
        first, count = 0, columns
    else:
        # Wrap the box edges into [-180, 180) so a box over the antimeridian still works.
        west = (lon - d_lon + 180.0) % 360.0 - 180.0
        east = (lon + d_lon + 180.0) % 360.0 - 180.0
        first = _index(west, -180.0, 180.0, lon_bits)
        count = (_index(east, -180.0, 180.0, lon_bits) - first) % columns + 1
    if (high - low + 1) * count > _MAX_FALLBACK_CELLS:
        raise ValueError(f"radius {radius_km} km is too large to cover at precision {precision}")
    cells = {
        _from_indices(row, (first + step) % columns, precision)
        for row in range(low, high + 1)
        for step in range(count)
    }
    return sorted(cells)


def approximate(lat: float, lon: float, precision: int = 5) -> tuple[float, float]:
    """What non-owners see: reveals the cell, never where in it the point lies."""
    centre_lat, centre_lon = decode(encode(lat, lon, precision))
    return round(centre_lat, 4), round(centre_lon, 4)
