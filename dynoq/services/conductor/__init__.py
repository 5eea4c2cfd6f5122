"""Conductor's REST API under ``/api``: :mod:`.app` mounts it on the server; one module per
Conductor resource (metadata, workflows, tasks, search), the query grammar, the OpenAPI part.

Services layer. May import the workflow engine and everything below it."""
