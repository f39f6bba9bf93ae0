"""From a location in the data (``('buildings', 2, 'pv', 'kwp')``) to ``line:col`` and a readable path."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

Loc = Sequence[str | int]


def _item_name(item: Any, index: int) -> str:
    """Items are named by their id (or name) when they have one: ``events[DR_EVENT_001]``."""
    if isinstance(item, dict):
        for key in ("id", "name"):
            value = item.get(key)
            if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
                return f"[{value}]"
    return f"[{index}]"


def locate(tree: CommentedMap, loc: Loc, *, at_key: bool = False) -> tuple[int, int, str]:
    """1-based line and column of the node at ``loc`` (or of its nearest existing parent), and its path.

    Elements of ``loc`` that are not in the data (pydantic's union tags, a missing key) are skipped for the
    position; a missing key still ends the path so the user sees which key is meant.
    """
    node: Any = tree
    line, col = (tree.lc.line + 1, tree.lc.col + 1) if tree.lc.line is not None else (1, 1)
    parts: list[str] = []
    steps = list(loc)
    for i, step in enumerate(steps):
        last = i == len(steps) - 1
        if isinstance(node, CommentedMap) and isinstance(step, str) and step in node:
            key_line, key_col = node.lc.key(step)
            value = node[step]
            if last and at_key:
                line, col = key_line + 1, key_col + 1
            elif isinstance(value, CommentedMap | CommentedSeq) and value.lc.line is not None and value:
                line, col = value.lc.line + 1, value.lc.col + 1
            else:
                v_line, v_col = node.lc.value(step)
                line, col = (v_line + 1, v_col + 1) if v_line is not None else (key_line + 1, key_col + 1)
            parts.append(("." if parts else "") + step)
            node = value
        elif isinstance(node, CommentedSeq) and isinstance(step, int) and 0 <= step < len(node):
            i_line, i_col = node.lc.item(step)
            line, col = i_line + 1, i_col + 1
            parts.append(_item_name(node[step], step))
            node = node[step]
        elif isinstance(node, dict) and isinstance(step, str) and _is_union_tag(node, step):
            continue
        elif isinstance(step, str) and not step.startswith(("function-", "list[", "dict[")) and "[" not in step:
            parts.append(("." if parts else "") + step)
            node = None
        # anything else (validator names, out-of-range indexes) adds nothing
    return line, col, "".join(parts)


def _is_union_tag(node: dict[str, Any], step: str) -> bool:
    return node.get("type") == step
