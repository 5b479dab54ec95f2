"""Every YAML file Satchel reads (MLproject, python_env.yaml, conda.yaml) comes through here.

A small file can still be hostile: nested aliases (a "billion laughs") cost nothing to parse
but explode when the document is walked or cached as JSON (531 bytes became 1.85 GB), and
thousands of nested brackets overflow PyYAML's recursive composer. So a document is refused,
with one line, when the file is larger than ``MAX_BYTES``, when it would have more than
``MAX_NODES`` values once its aliases are expanded, when an alias refers to itself, or when
it nests deeper than ``MAX_DEPTH``. The checks run on PyYAML's node graph, before any Python
object is built, and parsed documents are cached by content (``_yamlcache``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from satchel.errors import SpecError
from satchel.projects._yamlcache import cached_parse

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "load_yaml_file"]

MAX_BYTES = 1 << 20  # 1 MiB: a real MLproject or env file is a few KiB
MAX_NODES = 100_000  # values after alias expansion
MAX_DEPTH = 100


def load_yaml_file(path: Path, *, unique_keys: bool = False) -> Any:
    """The document in ``path`` (None when empty), or SpecError naming the file (and line).

    ``unique_keys``: a repeated mapping key is an error (PyYAML silently keeps the last)."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise SpecError(
                f"{path}: the file is {size} bytes, more than the {MAX_BYTES} a YAML file "
                "may have here; shrink it"
            )
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as err:
        raise SpecError(f"{path}: cannot read the file: {err}") from None
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:  # it grew after stat()
        raise SpecError(f"{path}: the file is larger than {MAX_BYTES} bytes; shrink it")
    flavour = "mlproject" if unique_keys else "safe_load"
    return cached_parse(text, flavour, lambda t: _parse(path, t, unique_keys))


def _parse(path: Path, text: str, unique_keys: bool) -> Any:
    import yaml

    loader = _loader_class(unique_keys)(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_graph(path, node)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise SpecError(f"{path}{line}: invalid YAML: {err.problem or err.context}") from None
    except yaml.YAMLError as err:
        raise SpecError(f"{path}: invalid YAML: {err}") from None
    except RecursionError:
        raise SpecError(
            f"{path}: invalid YAML: nested more than {MAX_DEPTH} levels deep; flatten it"
        ) from None
    finally:
        loader.dispose()


def _check_graph(path: Path, root: Any) -> None:
    """Expanded size and depth of the node graph, walked iteratively (shared nodes once)."""
    sizes: dict[int, int] = {}
    stack: list[tuple[Any, int, bool]] = [(root, 1, False)]
    on_path: set[int] = set()
    while stack:
        node, depth, done = stack.pop()
        if done:
            on_path.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes[id(c)] for c in _children(node))
            if sizes[id(node)] > MAX_NODES:
                raise SpecError(
                    f"{path}: the document expands to more than {MAX_NODES} values "
                    "(nested aliases?); refused — write the values out, or use fewer aliases"
                )
            continue
        if id(node) in on_path:
            raise SpecError(f"{path}: an alias refers to the value that contains it; refused")
        if id(node) in sizes:
            continue
        if depth > MAX_DEPTH:
            raise SpecError(f"{path}: nested more than {MAX_DEPTH} levels deep; flatten it")
        on_path.add(id(node))
        stack.append((node, depth, True))
        stack.extend((c, depth + 1, False) for c in _children(node) if id(c) not in sizes)


def _children(node: Any) -> list[Any]:
    import yaml

    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _loader_class(unique_keys: bool) -> Any:
    import yaml

    if not unique_keys:
        return yaml.SafeLoader

    class UniqueKeyLoader(yaml.SafeLoader):
        pass

    def construct_mapping(loader: UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = loader.construct_object(key_node)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return loader.construct_mapping(node)

    UniqueKeyLoader.add_constructor(
        yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping
    )
    return UniqueKeyLoader
