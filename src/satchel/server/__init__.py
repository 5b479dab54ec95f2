"""``satchel server``: MLflow's REST API over Satchel's stores.

- ``routes``: the one routes table; every route declares the permission it needs;
- ``app``: ``create_app(...)``, the Starlette application (host check, size limits, errors);
- ``api/``: the handlers, one module per resource (experiments, runs, artifacts, meta);
- ``serve``: binding a socket and running uvicorn (the CLI and the MLflow bridge use it).

Importing this package imports nothing heavy; Starlette and uvicorn load with ``app`` and
``serve``, never with ``import satchel``.
"""
