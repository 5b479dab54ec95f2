"""Parameter types: validation, conversion, normalisation for logging, -P parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from satchel.errors import ParameterError
from satchel.projects.params import parse_param_list, resolve_parameters
from satchel.projects.spec import EntryPoint, ParamSpec


def _ep(*specs: ParamSpec) -> EntryPoint:
    return EntryPoint("main", "x", {s.name: s for s in specs})


def _one(spec: ParamSpec, value: str, cwd: Path | None = None) -> object:
    resolved = resolve_parameters(_ep(spec), {spec.name: value}, cwd=cwd or Path.cwd())
    return resolved.declared[spec.name]


@pytest.mark.parametrize(
    ("value", "typed", "logged"),
    [
        (".5", 0.5, "0.5"),
        ("1e-05", 1e-05, "1e-05"),
        ("0.00001", 1e-05, "1e-05"),
        ("5", 5.0, "5.0"),
        (" -2.5 ", -2.5, "-2.5"),
    ],
)
def test_float_is_normalised_like_log_param(value: str, typed: float, logged: str) -> None:
    spec = ParamSpec("alpha", "float")
    resolved = resolve_parameters(_ep(spec), {"alpha": value}, cwd=Path.cwd())
    assert resolved.declared["alpha"] == typed
    assert resolved.for_logging()["alpha"] == logged == str(typed)


@pytest.mark.parametrize("bad", ["abc", "", "nan", "inf", "0x1p"])
def test_float_rejects_non_numbers(bad: str) -> None:
    with pytest.raises(ParameterError, match="alpha"):
        _one(ParamSpec("alpha", "float"), bad)


def test_int_values() -> None:
    spec = ParamSpec("n", "int")
    assert _one(spec, "5") == 5 and _one(spec, "-3") == -3 and _one(spec, "+7") == 7
    for bad in ("1.5", "five", "", "1e3"):
        with pytest.raises(ParameterError, match="must be an integer"):
            _one(spec, bad)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("1", True),
        ("yes", True),
        ("Yes", True),
        ("false", False),
        ("0", False),
        ("no", False),
        ("False", False),
    ],
)
def test_bool_values(value: str, expected: bool) -> None:
    resolved = resolve_parameters(_ep(ParamSpec("b", "bool")), {"b": value}, cwd=Path.cwd())
    assert resolved.declared["b"] is expected
    assert resolved.for_logging()["b"] == str(expected)


def test_bool_rejects_other_words() -> None:
    with pytest.raises(ParameterError, match="must be a boolean"):
        _one(ParamSpec("b", "bool"), "maybe")


def test_path_becomes_absolute_against_the_callers_directory(tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text("x")
    spec = ParamSpec("data", "path")
    assert _one(spec, "data.csv", cwd=tmp_path) == str(tmp_path / "data.csv")
    assert _one(spec, f"file://{tmp_path}/data.csv", cwd=Path("/")) == str(tmp_path / "data.csv")
    with pytest.raises(ParameterError, match="no such file or directory"):
        _one(spec, "missing.csv", cwd=tmp_path)
    with pytest.raises(ParameterError, match="use type 'uri'"):
        _one(spec, "s3://bucket/key", cwd=tmp_path)


def test_path_default_is_resolved_against_the_project_root(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "train.csv").write_text("x")
    ep = _ep(ParamSpec("data", "path", "train.csv", required=False))
    resolved = resolve_parameters(ep, {}, cwd=tmp_path, project_root=project)
    assert resolved.declared["data"] == str(project / "train.csv")


def test_uri_needs_a_scheme() -> None:
    spec = ParamSpec("src", "uri")
    assert _one(spec, "s3://b/k") == "s3://b/k"
    assert _one(spec, "file:///tmp/x") == "file:///tmp/x"
    for bad in ("/tmp/x", "data/file.csv", "C:/x"):
        with pytest.raises(ParameterError, match="must be a URI with a scheme"):
            _one(spec, bad)


def test_choices_and_bounds() -> None:
    mode = ParamSpec("mode", "string", choices=("a", "b"))
    assert _one(mode, "a") == "a"
    with pytest.raises(ParameterError, match="must be one of: a, b"):
        _one(mode, "c")
    alpha = ParamSpec("alpha", "float", min=0, max=1)
    assert _one(alpha, "1") == 1.0
    with pytest.raises(ParameterError, match="must be >= 0"):
        _one(alpha, "-0.1")
    with pytest.raises(ParameterError, match="must be <= 1"):
        _one(alpha, "1.5")


def test_missing_required_params_are_listed_together() -> None:
    ep = _ep(ParamSpec("a"), ParamSpec("b", "int"), ParamSpec("c", default="x", required=False))
    with pytest.raises(ParameterError) as err:
        resolve_parameters(ep, {}, cwd=Path.cwd())
    assert "No value given for missing parameters: 'a', 'b'" in str(err.value)


def test_defaults_extras_and_case_sensitive_names() -> None:
    ep = _ep(ParamSpec("name"), ParamSpec("greeting", default="hi", required=False))
    given = {"name": "friend", "excitement": "10", "NAME": "x", "neg": "-1"}
    resolved = resolve_parameters(ep, given, cwd=Path.cwd())
    assert resolved.declared == {"name": "friend", "greeting": "hi"}
    assert resolved.extra == {"excitement": "10", "NAME": "x", "neg": "-1"}
    assert list(resolved.for_logging()) == ["name", "greeting", "excitement", "NAME", "neg"]


@pytest.mark.parametrize("key", ["a b", "x;rm", "$(id)", "", "a=b", "--", "é"])
def test_extra_keys_must_be_plain(key: str) -> None:
    with pytest.raises(ParameterError, match="Invalid parameter name"):
        resolve_parameters(_ep(), {key: "1"}, cwd=Path.cwd())


def test_extra_keys_allowed_alphabet() -> None:
    resolved = resolve_parameters(_ep(), {"a.b-c_D9": "v"}, cwd=Path.cwd())
    assert resolved.extra == {"a.b-c_D9": "v"}


def test_parse_param_list() -> None:
    assert parse_param_list(["a=1", "b=x=y", "c=", "d='q'"]) == {
        "a": "1",
        "b": "x=y",
        "c": "",
        "d": "'q'",
    }
    with pytest.raises(ParameterError, match="Repeated parameter: 'a'"):
        parse_param_list(["a=1", "a=2"])
    with pytest.raises(ParameterError, match="Invalid format for -P parameter 'a'"):
        parse_param_list(["a"])
    with pytest.raises(ParameterError, match="Invalid format"):
        parse_param_list(["=1"])


def test_errors_are_one_line() -> None:
    with pytest.raises(ParameterError) as err:
        _one(ParamSpec("alpha", "float"), "a\nb")
    assert "\n" not in str(err.value)


def test_an_extra_key_close_to_a_declared_one_is_an_error(tmp_path: Path) -> None:
    ep = EntryPoint(
        "main", "python t.py {alpha}", {"alpha": ParamSpec("alpha", "float", 0.5, required=False)}
    )
    with pytest.raises(ParameterError, match=r"-P alpah .*\(did you mean 'alpha'\?\).*--allow"):
        resolve_parameters(ep, {"alpah": "0.3", "epochs": "3"}, cwd=tmp_path)
    required = EntryPoint("main", "x {alpha}", {"alpha": ParamSpec("alpha", "float")})
    with pytest.raises(ParameterError, match="did you mean 'alpha'"):  # not "missing alpha"
        resolve_parameters(required, {"alpah": "0.3"}, cwd=tmp_path)
    resolved = resolve_parameters(ep, {"epochs": "3"}, cwd=tmp_path)  # a new name passes
    assert resolved.extra == {"epochs": "3"}
    allowed = resolve_parameters(ep, {"alpah": "0.3"}, cwd=tmp_path, allow_extra=True)
    assert allowed.extra == {"alpah": "0.3"}  # passed as --alpah, as MLflow does


@pytest.mark.parametrize(
    ("key", "value"), [("alpha", "0.\x005"), ("extra", "a\x00b"), ("x\x00", "1")]
)
def test_nul_bytes_are_refused_before_any_run(key: str, value: str) -> None:
    ep = _ep(ParamSpec("alpha", "string", "d", required=False))
    with pytest.raises(ParameterError, match="contains a NUL byte, which no command line"):
        resolve_parameters(ep, {key: value}, cwd=Path.cwd())


def test_python_api_refuses_a_nul_byte_with_no_run_left(tmp_path: Path) -> None:
    import satchel.projects

    project = tmp_path / "proj"
    project.mkdir()
    (project / "MLproject").write_text(
        "entry_points:\n  main:\n    parameters:\n      s: string\n    command: echo {s}\n"
    )
    with pytest.raises(ParameterError, match="NUL byte"):
        satchel.projects.run(str(project), parameters={"s": "a\x00b"}, env_manager="local")
    assert not (Path.cwd() / "satchel").exists()  # no store, so no run
