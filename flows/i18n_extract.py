"""Babel extractor for messages.yaml: each entry becomes ``pgettext(message_id, french)``."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

import yaml

Extracted = tuple[int, str, tuple[str, str], list[str]]


def extract_messages_yaml(
    fileobj: IO[bytes],
    keywords: Mapping[str, Any],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[Extracted]:
    """Yield every message of a messages.yaml file with its line number."""
    node = yaml.compose(fileobj.read().decode("utf-8"))
    if not isinstance(node, yaml.MappingNode):
        return
    for key, value in node.value:
        if isinstance(value, yaml.ScalarNode):
            yield key.start_mark.line + 1, "pgettext", (str(key.value), str(value.value)), []
