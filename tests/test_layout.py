"""The rules of the house, checked on the source: imports point down, bot/ speaks no
messenger, adapters query no tables, and no module imports itself round a cycle."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "scheduled", "storage")


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports(path: Path, top_level_only: bool = False) -> set[str]:
    """Modules a file imports (at module level only, if asked: imports inside functions run late)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def importing(prefix: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(f"{name} imports {target}" for name, path in modules().items()
                  if name == prefix or name.startswith(prefix + ".")
                  for target in imports(path) if target.split(".")[0] in forbidden or target.startswith(forbidden))


def test_imports_point_down() -> None:
    assert importing("storage", ("bot", "handlers", "scheduled")) == []
    assert importing("bot", ("handlers", "scheduled", "slack_bolt", "slack_sdk", "wechatpy")) == []
    assert importing("scheduled", ("handlers", "slack_bolt", "slack_sdk")) == []
    capabilities = tuple(f"bot.{p.name}" for p in (ROOT / "bot").iterdir() if p.is_dir() and p.name not in
                         ("core", "__pycache__", "locale"))
    assert importing("bot.core", capabilities) == []


def test_adapters_query_no_tables_and_decide_no_rules() -> None:
    for adapter in ("handlers.slack", "handlers.demo", "handlers.wecom", "handlers.web"):
        assert importing(adapter, ("storage", "sqlalchemy")) == [], adapter
        assert [t for t in importing(adapter, ("bot",)) if ".authorizer" in t] == []


def test_bot_speaks_no_messenger() -> None:
    slack_words = re.compile(r"\b(callback_id|private_metadata|block_id|action_id|mrkdwn|views_open|response_url)\b")
    offending = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
                 for path in (ROOT / "bot").rglob("*.py")
                 for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
                 if slack_words.search(line)]
    assert offending == []


def test_no_import_cycles() -> None:
    known = modules()
    graph = {name: {target for target in imports(path) if target in known and target != name}
             for name, path in known.items()}
    for name in list(graph):  # importing a.b runs a/__init__ too (unless it is the importer's own package)
        own = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
        graph[name] |= ({".".join(target.split(".")[:i]) for target in graph[name]
                         for i in range(1, target.count(".") + 1)} & set(known)) - own
        graph[name].discard(name)
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(trail[trail.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []
