"""The version, in a module of its own: a module that needs it (model metadata, the client
path) imports it without importing ``satchel`` and everything ``satchel`` imports."""

__version__ = "0.1.0"
