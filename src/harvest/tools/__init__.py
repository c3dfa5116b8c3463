"""Developer and operator tooling (CLI, template reading, local runtime). Top layer."""
