"""ComfyUI workflows in API format, with the binding that says where figurebot's values go.

A workflow ``NAME.json`` (ComfyUI's "Export (API)") comes with ``NAME.toml`` beside it::

    image = ["41.image"]      # LoadImage: the uploaded photo, as "NAME [temp]"
    prompt = ["76.prompt"]    # the whole prompt text
    seed = ["3.seed"]         # the seed (re-rolls change it)
    width = ["88.width"]      # the figure's size in pixels
    height = ["88.height"]
    output = "60"             # the node whose images are the figure (a PreviewImage)
    models = ["vae/qwen_image_vae.safetensors"]  # the model files it expects (for the operator)

The bundled workflows live in ``bot/data/comfyui``; ``COMFYUI_WORKFLOW`` names one of them or a file.
"""

from __future__ import annotations

import copy
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import ConfigurationError

BUNDLED = Path(__file__).resolve().parents[2] / "data" / "comfyui"
DEFAULT = "qwen-image-edit-2511"
VALUES = ("image", "prompt", "seed", "width", "height")

Graph = dict[str, dict[str, Any]]
Slot = tuple[str, str]  # (node id, input name)


@dataclass(frozen=True)
class Workflow:
    """A graph and the node inputs each value is bound into."""

    name: str
    graph: Graph
    slots: dict[str, tuple[Slot, ...]]
    output: str
    models: tuple[str, ...]

    def bind(self, image: str, prompt: str, seed: int, size: tuple[int, int]) -> Graph:
        """A copy of the graph with the uploaded image's name, the prompt, the seed and the size set."""
        values = {"image": image, "prompt": prompt, "seed": seed, "width": size[0], "height": size[1]}
        graph = copy.deepcopy(self.graph)
        for key, slots in self.slots.items():
            for node, name in slots:
                graph[node]["inputs"][name] = values[key]
        return graph

    def class_of(self, node: str) -> str:
        """The class type of ``node``, or ``"?"`` for a node this workflow lacks."""
        return str(self.graph.get(node, {}).get("class_type", "?"))


def workflow_path(setting: str) -> Path:
    """The workflow file ``COMFYUI_WORKFLOW`` names: a bundled workflow's name, or a path."""
    chosen = setting or DEFAULT
    bundled = BUNDLED / f"{chosen}.json"
    return bundled if bundled.is_file() else Path(chosen)


def bundled_names() -> list[str]:
    """The names of the bundled workflows."""
    return sorted(path.stem for path in BUNDLED.glob("*.json"))


def load_workflow(path: Path) -> Workflow:
    """The workflow at ``path`` with its binding (``.toml`` beside it), each slot checked against the
    graph; ``ConfigurationError`` naming the file and the problem otherwise."""
    binding_path = path.with_suffix(".toml")
    try:
        graph = json.loads(path.read_text(encoding="utf-8"))
        binding = tomllib.loads(binding_path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ConfigurationError(
            f"COMFYUI_WORKFLOW: {error.filename} does not exist (bundled: {', '.join(bundled_names())})."
        ) from None
    except (OSError, ValueError) as error:
        raise ConfigurationError(
            f"COMFYUI_WORKFLOW: cannot read {path.name} or its binding: {error}"
        ) from None
    if not isinstance(graph, dict) or "nodes" in graph:
        raise ConfigurationError(
            f"COMFYUI_WORKFLOW: {path.name} is not in API format (in ComfyUI: Workflow → Export (API))."
        )
    slots = {key: _slots(graph, binding, key, binding_path) for key in VALUES}
    output = str(binding.get("output", ""))
    if output not in graph:
        raise ConfigurationError(f"{binding_path.name}: output names no node of the workflow ({output!r}).")
    models = binding.get("models", [])
    return Workflow(path.stem, graph, slots, output, tuple(str(model) for model in models))


def _slots(graph: dict[str, Any], binding: dict[str, Any], key: str, source: Path) -> tuple[Slot, ...]:
    """The node inputs ``key`` is bound to, each of the form ``NODE.INPUT`` with that input in the node."""
    targets = binding.get(key)
    if isinstance(targets, str):
        targets = [targets]
    if not targets or not isinstance(targets, list):
        raise ConfigurationError(f"{source.name}: '{key}' must list at least one \"NODE.INPUT\".")
    slots = []
    for target in targets:
        node, _, name = str(target).partition(".")
        inputs = graph.get(node, {}).get("inputs") if isinstance(graph.get(node), dict) else None
        if not isinstance(inputs, dict) or name not in inputs:
            raise ConfigurationError(f"{source.name}: {key} = {target!r} names no input of the workflow.")
        slots.append((node, name))
    return tuple(slots)
