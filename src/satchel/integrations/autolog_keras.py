"""``satchel.keras.autolog()``: every top-level ``Model.fit`` logs, into one run:

- params: epochs, batch_size, validation_split, optimizer_name, learning_rate; with an
  ``EarlyStopping`` callback also its monitor, patience, min_delta, mode and
  restore_best_weights;
- per-epoch metrics with their step (loss, accuracy, val_loss, val_accuracy ...), and with
  early stopping ``stopped_epoch`` and ``restored_epoch``;
- ``model_summary.txt``, and the fitted model (``satchel.keras.log_model``).
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any

from satchel.integrations.autolog_common import active_fit, fit_run, safe_params

__all__ = ["disable", "enable"]

_original: list[Any] = []
_options: dict[str, Any] = {}
_FIT_ARGS = ("x", "y", "batch_size", "epochs")  # fit's leading positional parameters


def enable(log_models: bool = True, disable: bool = False, **_ignored: Any) -> None:
    if disable:
        globals()["disable"]()
        return
    import keras

    _options["log_models"] = log_models
    if not _original:
        _original.append(keras.Model.fit)
        keras.Model.fit = _wrap(keras.Model.fit)


def disable() -> None:
    if _original:
        import keras

        keras.Model.fit = _original.pop()


def _wrap(original: Any) -> Any:
    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        if active_fit():
            return original(self, *args, **kwargs)
        given = {**dict(zip(_FIT_ARGS, args, strict=False)), **kwargs}
        with fit_run():
            callbacks = list(kwargs.get("callbacks") or [])
            kwargs["callbacks"] = [*callbacks, _epoch_logger()]
            _log_start(self, given)
            history = original(self, *args, **kwargs)
            _log_end(self, given, callbacks)
        return history

    return fit


def _epoch_logger() -> Any:
    import keras

    import satchel

    class EpochLogger(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            values = {k: float(v) for k, v in (logs or {}).items() if _is_number(v)}
            satchel.log_metrics(values, step=epoch)

    return EpochLogger()


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _log_start(model: Any, given: dict[str, Any]) -> None:
    import satchel

    params: dict[str, Any] = {
        "epochs": given.get("epochs", 1),
        "batch_size": given.get("batch_size"),
        "validation_split": given.get("validation_split", 0.0),
    }
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None:
        params["optimizer_name"] = type(optimizer).__name__
        with contextlib.suppress(TypeError, ValueError):  # a schedule, not a number
            params["learning_rate"] = float(optimizer.learning_rate)
    satchel.log_params(safe_params(params))
    lines: list[str] = []
    model.summary(print_fn=lambda line, *a, **k: lines.append(line))
    satchel.log_text("\n".join(lines) + "\n", "model_summary.txt")


def _log_end(model: Any, given: dict[str, Any], callbacks: list[Any]) -> None:
    import keras

    import satchel

    for cb in callbacks:
        if isinstance(cb, keras.callbacks.EarlyStopping):
            satchel.log_params(
                safe_params(
                    {
                        "monitor": cb.monitor,
                        "patience": cb.patience,
                        "min_delta": cb.min_delta,
                        "mode": getattr(cb, "mode", "auto"),
                        "restore_best_weights": cb.restore_best_weights,
                    }
                )
            )
            satchel.log_metrics(
                {
                    "stopped_epoch": cb.stopped_epoch,
                    "restored_epoch": getattr(cb, "best_epoch", 0) or 0,
                }
            )
    if _options.get("log_models", True):
        # the flavour and the logger, not satchel.keras (which imports this module)
        from satchel.models.flavors import keras as flavor
        from satchel.models.log import log_model

        x: Any = given.get("x")
        example = x[:5] if hasattr(x, "shape") else None
        log_model(flavor.save(model), "model", input_example=example)
