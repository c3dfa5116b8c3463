"""What the benchmark scripts in bench/ share; none of it is a benchmark of its own.

`local_api`: a quiet local runtime in a scratch directory and one JSON call on loopback
(api_load, freshness); `feed_density`: the feed at city density, measured (api_load);
`cold_start_api`: the API handler's cold start beside its bare dependencies (cold_start).
"""
