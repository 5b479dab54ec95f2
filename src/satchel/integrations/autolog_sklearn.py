"""``satchel.sklearn.autolog()``: every top-level ``fit`` of a scikit-learn estimator logs
its params (``get_params(deep=True)``), training metrics, and the fitted model.

Training metrics, computed on the data ``fit`` saw: classifiers ``training_accuracy_score``,
``training_precision_score``, ``training_recall_score``, ``training_f1_score`` (weighted);
regressors ``training_mean_squared_error``, ``training_root_mean_squared_error``,
``training_mean_absolute_error``, ``training_r2_score``; every estimator with ``score``:
``training_score``. Works by wrapping ``fit`` on the estimator classes scikit-learn lists
(``sklearn.utils.all_estimators``); ``disable=True`` restores them.
"""

from __future__ import annotations

import contextlib
import functools
import math
from typing import Any

from satchel.integrations.autolog_common import active_fit, fit_run, safe_params

__all__ = ["disable", "enable"]

_patched: dict[type, Any] = {}
_options: dict[str, Any] = {}


def enable(log_models: bool = True, log_input_examples: bool = True, disable: bool = False) -> None:
    if disable:
        globals()["disable"]()
        return
    _options.update(log_models=log_models, log_input_examples=log_input_examples)
    from sklearn.pipeline import Pipeline
    from sklearn.utils import all_estimators

    classes = [cls for _name, cls in all_estimators()] + [Pipeline]
    for cls in classes:
        if "fit" in cls.__dict__ and cls not in _patched:
            _patched[cls] = cls.__dict__["fit"]
            setattr(cls, "fit", _wrap(cls.__dict__["fit"]))  # noqa: B010 - mypy: a class


def disable() -> None:
    for cls, original in _patched.items():
        setattr(cls, "fit", original)  # noqa: B010
    _patched.clear()


def _wrap(original: Any) -> Any:
    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        if active_fit():
            return original(self, *args, **kwargs)
        X = args[0] if args else kwargs.get("X")
        y = args[1] if len(args) > 1 else kwargs.get("y")
        with fit_run():
            result = original(self, *args, **kwargs)
            _log(self, X, y)
        return result

    return fit


def _log(estimator: Any, X: Any, y: Any) -> None:
    import satchel

    satchel.log_params(safe_params(estimator.get_params(deep=True)))
    satchel.set_tags(
        {
            "estimator_name": type(estimator).__name__,
            "estimator_class": f"{type(estimator).__module__}.{type(estimator).__qualname__}",
        }
    )
    if y is not None:
        satchel.log_metrics(training_metrics(estimator, X, y))
    if _options.get("log_models", True):
        example = X[:5] if _options.get("log_input_examples", True) else None
        # the flavour and the logger, not satchel.sklearn (which imports this module)
        from satchel.models.flavors import sklearn as flavor
        from satchel.models.log import log_model

        log_model(flavor.save(estimator, "skops"), "model", input_example=example)


def training_metrics(estimator: Any, X: Any, y: Any) -> dict[str, float]:
    from sklearn import base, metrics

    out: dict[str, float] = {}
    predict = getattr(estimator, "predict", None)
    if predict is not None and base.is_classifier(estimator):
        pred = predict(X)
        out["training_accuracy_score"] = metrics.accuracy_score(y, pred)
        for name in ("precision", "recall", "f1"):
            score = getattr(metrics, f"{name}_score")
            out[f"training_{name}_score"] = score(y, pred, average="weighted", zero_division=0)
    elif predict is not None and base.is_regressor(estimator):
        pred = predict(X)
        mse = metrics.mean_squared_error(y, pred)
        out["training_mean_squared_error"] = mse
        out["training_root_mean_squared_error"] = math.sqrt(mse)
        out["training_mean_absolute_error"] = metrics.mean_absolute_error(y, pred)
        out["training_r2_score"] = metrics.r2_score(y, pred)
    if callable(getattr(estimator, "score", None)):
        # a score that needs more than (X, y) is not worth failing fit for
        with contextlib.suppress(Exception):
            out["training_score"] = float(estimator.score(X, y))
    return {k: float(v) for k, v in out.items()}
