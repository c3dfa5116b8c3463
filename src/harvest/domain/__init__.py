"""Pure domain: entities, lifecycles, catalog, geo and entitlements. No I/O."""
