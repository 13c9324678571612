"""DQNConfig documents itself: every field carries a one-line help comment."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import io
import tokenize

import rl_core.agents.config as config_module
from rl_core.agents.config import DQNConfig


def test_every_dqn_config_field_has_a_help_comment():
    source = inspect.getsource(config_module)
    comments = {
        tok.start[0]: tok.string
        for tok in tokenize.generate_tokens(io.StringIO(source).readline)
        if tok.type == tokenize.COMMENT
    }
    (cls,) = [
        n for n in ast.parse(source).body if isinstance(n, ast.ClassDef) and n.name == "DQNConfig"
    ]
    lines = {
        node.target.id: node.lineno
        for node in cls.body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
    }
    assert sorted(lines) == sorted(f.name for f in dataclasses.fields(DQNConfig))
    missing = [n for n, line in lines.items() if len(comments.get(line, "#").strip("# ")) < 10]
    assert not missing, f"DQNConfig fields without a help comment on their line: {missing}"
