"""The REST handlers, one module per resource. A handler is ``(ServerContext, Params) ->
dict`` (the JSON answer) and raises ``RestError`` or a ``SatchelError`` on failure; the
routes table (``satchel.server.routes``) binds each one to its method, path and permission.
"""
