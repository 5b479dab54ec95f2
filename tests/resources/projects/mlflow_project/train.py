"""An MLflow tutorial-style training script: it knows nothing about Satchel."""

import argparse
import os

import mlflow
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import ElasticNet

parser = argparse.ArgumentParser()
parser.add_argument("--alpha", type=float, default=0.5)
args = parser.parse_args()

X, y = load_diabetes(return_X_y=True)
with mlflow.start_run() as run:
    model = ElasticNet(alpha=args.alpha, l1_ratio=0.5, random_state=42).fit(X, y)
    rmse = float(np.sqrt(np.mean((model.predict(X) - y) ** 2)))
    mlflow.log_param("alpha", args.alpha)
    mlflow.log_params({"l1_ratio": 0.5})
    for step in range(3):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    mlflow.log_metric("rmse", rmse)
    mlflow.set_tag("trained_with", "mlflow")
    mlflow.log_text("model summary", "summary.txt")
    print("MLFLOW RUN", run.info.run_id, os.environ.get("MLFLOW_TRACKING_URI", "")[:16])
