"""Glue to other tools' APIs: autologging for scikit-learn and Keras (``autolog*``)."""
