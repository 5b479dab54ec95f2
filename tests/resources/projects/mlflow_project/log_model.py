"""An MLflow 3 tutorial-style script ending with a model: autolog plus an explicit
log_model that registers it. It knows nothing about Satchel."""

import mlflow
import mlflow.sklearn
import numpy as np
from sklearn.linear_model import LogisticRegression

X = np.array([[0.0, 1.0], [1.0, 0.0], [0.2, 0.9], [0.9, 0.2]])
y = np.array([0, 1, 0, 1])
mlflow.sklearn.autolog()
with mlflow.start_run() as run:
    model = LogisticRegression(C=0.5).fit(X, y)  # autolog: params, metrics, the model
    mlflow.sklearn.log_model(
        model, name="classifier", input_example=X[:2], registered_model_name="bridged"
    )
    print("MLFLOW RUN", run.info.run_id)
