"""The style service's scoring page: `GET /` for people, scored by the service's own routes."""
