"""Moodle's course categories as a tree; choosing one filters the course list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from archived.protocol.courses import Category
from archived_tui.safe_text import literal, plain


class CategoryTree(Tree[int | None]):
    """Categories nested by parent; the root ("All categories") means no filter."""

    @dataclass
    class Chosen(Message):
        """The user picked a category (None: all)."""

        category_id: int | None
        name: str

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("All categories", data=None, id=id)
        self.show_root = True
        self.guide_depth = 2

    def process_label(self, label: str | Text) -> Text:
        """Every label literally: category names come from Moodle (Tree would read a string as markup)."""
        return literal(label)

    def show(self, categories: Sequence[Category]) -> None:
        """Replace the tree; the first two levels are expanded."""
        self.clear()
        total = sum(c.course_count for c in categories)  # Moodle counts each category's own courses
        self.root.set_label(Text.assemble("All categories ", (f"{total:,}", "dim")))
        children: dict[int | None, list[Category]] = {}
        known = {c.id for c in categories}
        for category in categories:
            parent = category.parent if category.parent in known else None
            children.setdefault(parent, []).append(category)

        def add(node: TreeNode[int | None], parent: int | None, depth: int) -> None:
            for category in sorted(children.get(parent, []), key=lambda c: (c.name.lower(), c.id)):
                label = Text.assemble(plain(category.name), " ", (f"{category.course_count:,}", "dim"))
                if category.id in children:
                    child = node.add(label, data=category.id, expand=depth < 1)
                    add(child, category.id, depth + 1)
                else:
                    node.add_leaf(label, data=category.id)

        add(self.root, None, 0)
        self.root.expand()

    def on_tree_node_selected(self, event: Tree.NodeSelected[int | None]) -> None:
        """Enter or click chooses the category."""
        event.stop()
        label = event.node.label.plain if isinstance(event.node.label, Text) else str(event.node.label)
        self.post_message(self.Chosen(event.node.data, label.rsplit(" ", 1)[0]))
