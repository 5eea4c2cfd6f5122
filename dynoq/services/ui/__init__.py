"""The web UI at ``/ui/``: server-rendered pages (Jinja2 templates in ``templates/``, a little
CSS and JavaScript in ``static/``) over the same workflow engine and queue directory the APIs
use; diagrams laid out by Graphviz's ``dot``. Layer 3 (services): imports core, backend,
runtime, workflow and the other services' public names."""

from dynoq.services.ui.app import PREFIX, mount, serves

__all__ = ["PREFIX", "mount", "serves"]
