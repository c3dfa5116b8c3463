"""Stream consumers: Lambda handlers fed by the table's stream (event source mappings in
template.yaml). Each handler is thin: it decodes records (harvest.store.stream), hands them to
a service, and runs through the shared in-order batch runner (harvest.consumers.batch), which
turns the first failure into a partial batch response."""
