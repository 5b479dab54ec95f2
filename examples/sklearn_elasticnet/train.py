"""Train an ElasticNet regressor on the diabetes dataset and log it into the Satchel run.

``import satchel`` works although satchel is not a dependency of this project: the runner puts
the logging client on PYTHONPATH and hands over the run through SATCHEL_* variables.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import satchel


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--alpha", type=float, default=0.1)
    parser.add_argument("--l1-ratio", type=float, default=0.5)
    parser.add_argument("--max-iter", type=int, default=200)
    parser.add_argument("--seed", type=int, default=42)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    X, y = load_diabetes(return_X_y=True)  # bundled with scikit-learn
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=args.seed
    )
    scaler = StandardScaler().fit(X_train)  # fitted on the training split only
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    model = ElasticNet(
        alpha=args.alpha,
        l1_ratio=args.l1_ratio,
        max_iter=1,
        warm_start=True,
        random_state=args.seed,
    )
    with satchel.start_run():  # resumes the run the runner created
        satchel.set_tag("model", "ElasticNet")
        # warm-started single passes, so the loss curve is visible step by step
        warnings.simplefilter("ignore", ConvergenceWarning)
        for step in range(args.max_iter):
            model.fit(X_train, y_train)
            if step % 10 == 0 or step == args.max_iter - 1:
                loss = mean_squared_error(y_train, model.predict(X_train))
                satchel.log_metric("loss", float(loss), step=step)
        predicted = model.predict(X_test)
        rmse = float(np.sqrt(mean_squared_error(y_test, predicted)))
        metrics = {
            "rmse": rmse,
            "r2": float(r2_score(y_test, predicted)),
            "mae": float(mean_absolute_error(y_test, predicted)),
        }
        satchel.log_metrics(metrics)
        with tempfile.TemporaryDirectory() as tmp:
            coef = Path(tmp, "model.json")
            coef.write_text(
                json.dumps(
                    {
                        "coef": [float(c) for c in model.coef_],
                        "intercept": float(model.intercept_),
                        "params": {"alpha": args.alpha, "l1_ratio": args.l1_ratio},
                    },
                    indent=2,
                )
            )
            satchel.log_artifact(str(coef), "model")
        print(
            f"ElasticNet(alpha={args.alpha}, l1_ratio={args.l1_ratio}): "
            f"rmse={rmse:.2f} r2={metrics['r2']:.3f} mae={metrics['mae']:.2f}"
        )


if __name__ == "__main__":
    main()
