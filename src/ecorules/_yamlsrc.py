"""YAML with positions: plain Python values plus where each one stood in the file.

Pydantic reports errors by path (``rules.3.window.days``); authors need ``file:line:col``.
Loading through the node tree lets us keep a map from every path to the line and column of
its value (and of its key), refuse duplicate keys that PyYAML would silently overwrite,
and bound what anchors and aliases can expand to.
"""

from __future__ import annotations

import re
import stat
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ._errors import Diagnostic, Severity

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_NODES = 200_000
MAX_DEPTH = 64
"""Packs nest about eight deep. libyaml's composer recurses in C: thousands of nested
brackets crash the process (found by fuzzing), so depth is checked on the event stream,
which is iterative, before anything is composed."""

PathKey = tuple[Any, ...]
"""A path into a document: mapping keys (any YAML scalar) and sequence indices."""


@dataclass
class Located:
    """A loaded document and the positions of its parts (1-based line and column)."""

    file: str
    data: Any
    value_at: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    key_at: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    value_end_at: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    """Where each value ends (exclusive), so a diagnostic can underline all of it."""
    key_end_at: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    def position(self, path: PathKey, *, key: bool = False) -> tuple[int, int]:
        """The closest known position for ``path``: walks up to a parent when needed."""
        table = self.key_at if key else self.value_at
        probe = tuple(path)
        while probe:
            if probe in table:
                return table[probe]
            if key and probe in self.value_at:
                return self.value_at[probe]
            probe = probe[:-1]
        return self.value_at.get((), (1, 1))

    def diagnostic(
        self,
        path: PathKey,
        code: str,
        message: str,
        *,
        key: bool = False,
        help: str | None = None,
        severity: Severity = "error",
    ) -> Diagnostic:
        line, col = self.position(path, key=key)
        # Underline the item itself; a position borrowed from a parent gets a caret only.
        starts, ends = (self.key_at, self.key_end_at) if key else (self.value_at, self.value_end_at)
        own = starts.get(tuple(path)) == (line, col)
        end_line, end_col = ends[tuple(path)] if own else (0, 0)
        return Diagnostic(
            code=code,
            message=message,
            file=self.file,
            line=line,
            col=col,
            help=help,
            severity=severity,
            end_line=end_line,
            end_col=end_col,
        )


_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[valid-type,misc]
    """The safe loader (libyaml's when installed): no arbitrary Python objects, ever."""


class YamlProblem(Exception):
    def __init__(self, diagnostic: Diagnostic):
        super().__init__(str(diagnostic))
        self.diagnostic = diagnostic


def _mark(node: yaml.Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _end(node: yaml.Node) -> tuple[int, int]:
    return (node.end_mark.line + 1, node.end_mark.column + 1)


class _Walker:
    def __init__(self, loader: _Loader, located: Located):
        self.loader = loader
        self.located = located
        self.visited = 0

    def fail(self, node: yaml.Node, code: str, message: str) -> YamlProblem:
        line, col = _mark(node)
        return YamlProblem(Diagnostic(code, message, self.located.file, line, col))

    def walk(self, node: yaml.Node, path: PathKey) -> Any:
        self.visited += 1
        if self.visited > MAX_NODES:
            raise self.fail(
                node,
                "yaml_too_large",
                f"the document expands to more than {MAX_NODES} nodes "
                "(anchors and aliases included)",
            )
        if path not in self.located.value_at:
            self.located.value_at[path] = _mark(node)
            self.located.value_end_at[path] = _end(node)
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and node.tag not in _PLAIN_TAGS:
            raise self.fail(node, "yaml_syntax", f"unsupported tag `{node.tag}`")
        if isinstance(node, yaml.MappingNode):
            self.loader.flatten_mapping(node)
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key: Any = self.loader.construct_object(key_node, deep=True)
                if not isinstance(key, Hashable) or isinstance(key, (list, dict)):
                    raise self.fail(key_node, "yaml_syntax", "a mapping key must be a scalar")
                if key in result:
                    first = self.located.key_at.get((*path, key), (0, 0))
                    raise self.fail(
                        key_node,
                        "duplicate_key",
                        f"duplicate key `{key}` (first at line {first[0]})",
                    )
                self.located.key_at[(*path, key)] = _mark(key_node)
                self.located.key_end_at[(*path, key)] = _end(key_node)
                result[key] = self.walk(value_node, (*path, key))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.walk(item, (*path, i)) for i, item in enumerate(node.value)]
        try:
            return self.loader.construct_object(node, deep=True)
        except (ValueError, OverflowError) as exc:
            # Found by fuzzing: a scalar shaped like a date but impossible (2024-13-01) made
            # PyYAML's constructor raise ValueError out of the loader.
            raise self.fail(
                node,
                "invalid_value",
                f"`{node.value}` is not a valid {node.tag.rsplit(':', 1)[-1]}: {exc}",
            ) from None


def load_text(text: str, file: str) -> Located:
    """Parse one YAML document. Raises YamlProblem with a positioned diagnostic."""
    located = Located(file=file, data=None)
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        raise YamlProblem(
            Diagnostic("file_too_large", f"the file is larger than {MAX_FILE_BYTES} bytes", file)
        )
    _check_depth(text, file)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise YamlProblem(
                Diagnostic("empty_file", "the file holds no YAML document", file, 1, 1)
            )
        located.data = _Walker(loader, located).walk(node, ())
    except yaml.MarkedYAMLError as exc:
        raise YamlProblem(_syntax_diagnostic(text, exc, file)) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(Diagnostic("yaml_syntax", str(exc).strip(), file, 1, 1)) from None
    except RecursionError:
        raise YamlProblem(
            Diagnostic("yaml_too_deep", "the document is nested too deeply", file, 1, 1)
        ) from None
    finally:
        loader.dispose()
    return located


# An input method left in Chinese mode types a full-width colon after a key.
_KEY_THEN_FULL_WIDTH_COLON = re.compile(r"^[ ]*(?:-[ ]+)?([A-Za-z_][A-Za-z0-9_]*)[ ]*(：)")
_INDENT = re.compile(r"^[ \t\u3000]*")


def _syntax_diagnostic(text: str, exc: yaml.MarkedYAMLError, file: str) -> Diagnostic:
    """PyYAML's complaint, or better: the character that caused it, on its own line.

    A full-width colon after a key, or an ideographic space (U+3000) or a tab in the
    indentation, makes PyYAML stop a line or two later with words that name neither; look
    back from where it stopped for one of them before passing its message on, with the
    context it gives ("while parsing a block mapping … line 46") as help.
    """
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    lines = text.splitlines()
    first = max(0, min(line - 1, (exc.context_mark.line if exc.context_mark else line - 1)) - 1)
    for number in range(min(line, len(lines)), first, -1):
        source = lines[number - 1]
        indent = _INDENT.match(source)
        assert indent is not None
        for bad, name in (("\u3000", "an ideographic (full-width) space U+3000"), ("\t", "a tab")):
            at = indent.group(0).find(bad)
            if at >= 0:
                return Diagnostic(
                    "yaml_syntax",
                    f"the indentation holds {name}",
                    file,
                    number,
                    at + 1,
                    help="indent with ASCII spaces only",
                )
        key = _KEY_THEN_FULL_WIDTH_COLON.match(source)
        if key:
            return Diagnostic(
                "yaml_syntax",
                "`：` is a full-width colon; YAML needs `:` after a key",
                file,
                number,
                key.start(2) + 1,
                help=f"write `{key.group(1)}: ` with an ASCII colon and a space",
            )
    message = (exc.problem or exc.context or "invalid YAML").strip()
    help = None
    if exc.context and exc.problem and exc.context_mark is not None:
        help = f"{exc.context.strip()} that starts at line {exc.context_mark.line + 1}"
    return Diagnostic("yaml_syntax", message, file, line, col, help=help)


_PLAIN_TAGS = frozenset(
    {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:omap"}
)
_OPEN = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSE = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def _check_depth(text: str, file: str) -> None:
    try:
        _walk_depth(text, file)
    except yaml.YAMLError as exc:
        # libyaml 0.2.6 (in PyYAML 6.0.4's wheels) has a nesting limit of its own (1,000),
        # checked by its scanner, which in flow context reads up to 1,024 characters ahead of
        # the events it has handed out: `[[[[…` fails there before the event for our 65th
        # level is ever seen. Read again only the text before the point where the parser
        # stopped: it stays under the parser's limit, and its end flushes every pending event.
        mark = getattr(exc, "problem_mark", None)
        if mark is None or not 0 < mark.index <= len(text):
            return
        try:
            _walk_depth(text[: mark.index], file)
        except yaml.YAMLError:
            return  # a syntax error: composing reports it with its position


def _walk_depth(text: str, file: str) -> None:
    """Raise yaml_too_deep at the first collection opened past MAX_DEPTH."""
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, _OPEN):
            depth += 1
            if depth > MAX_DEPTH:
                mark = event.start_mark
                line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
                raise YamlProblem(
                    Diagnostic(
                        "yaml_too_deep",
                        f"the document nests deeper than {MAX_DEPTH} levels",
                        file,
                        line,
                        col,
                    )
                )
        elif isinstance(event, _CLOSE):
            depth -= 1


def load_file(path: Path, display: str | None = None) -> Located:
    """Read and parse a YAML file; unreadable or non-UTF-8 files give a diagnostic too."""
    name = display or str(path)
    try:
        if not stat.S_ISREG(path.stat().st_mode):  # /dev/zero, a FIFO: endless, or blocking
            raise YamlProblem(Diagnostic("not_a_file", "not a regular file", name))
        with path.open("rb") as handle:  # bounded even where the size stat gives is not
            raw = handle.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise YamlProblem(
                Diagnostic(
                    "file_too_large", f"the file is larger than {MAX_FILE_BYTES} bytes", name
                )
            )
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlProblem(
            Diagnostic("not_utf8", f"the file is not UTF-8 text ({exc.reason})", name)
        ) from None
    except OSError as exc:
        raise YamlProblem(
            Diagnostic("unreadable", f"cannot read the file: {exc.strerror}", name)
        ) from None
    return load_text(text, name)
