"""Models: MLflow's model directory format (MLmodel + flavours), the registry, serving.

    format      mlmodel, save, checksums, signature, requirements, flavors/
    find/load   uri (runs:/, models:/, paths), load, pyfunc_model
    log         log (log_model into a run, register_model)
    registry    entities (the store implements it: tracking/store/*registry*)
    serving     serve/ (the scoring server, input formats, the model's environment)

Public entry points are ``satchel.sklearn``, ``satchel.pyfunc``, ``satchel.keras`` and the
registry methods of ``satchel.Client``. Standard library only at import.
"""
