"""Glue to other tools' APIs: autologging for scikit-learn and Keras (``autolog*``), Ray Tune
sweeps as nested runs (``ray_tune``)."""
