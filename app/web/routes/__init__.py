"""Page routes, one module per area; none is in the OpenAPI document."""
