"""Serving a model over HTTP, MLflow's scoring protocol.

launch   locate + verify the model, build (or reuse) its environment, start the server
server   the scoring server (standard library http.server; runs inside the model's env)
inputs   request bodies (dataframe_split, dataframe_records, instances, inputs, CSV) →
         the model's input, checked against its signature; errors name what is wrong
"""
