"""The two bundled models, loaded once through LiteRT and shared by every thread."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ai_edge_litert.interpreter import Interpreter

log = logging.getLogger("figurebot.segmentation")

MODEL_DIR = Path(__file__).resolve().parent.parent / "models"
SEGMENTER_PATH = MODEL_DIR / "selfie_segmentation.tflite"
FACE_DETECTOR_PATH = MODEL_DIR / "face_detection_short_range.tflite"


class Runner:
    """One interpreter, shared by all threads: interpreters are not thread-safe, so runs take turns."""

    def __init__(self, path: Path) -> None:
        self._interpreter = _load_interpreter(path)
        source = self._interpreter.get_input_details()[0]
        self._input = source["index"]
        self._outputs = {detail["name"]: detail["index"] for detail in self._interpreter.get_output_details()}
        self._lock = threading.Lock()
        self.run(np.zeros(source["shape"], dtype=np.float32))  # fail now, not mid-request, if it cannot run

    def run(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        """Invoke the model on ``batch`` and return copies of its named outputs."""
        with self._lock:
            self._interpreter.set_tensor(self._input, batch)
            self._interpreter.invoke()
            return {name: self._interpreter.get_tensor(index) for name, index in self._outputs.items()}


@dataclass(frozen=True)
class Models:
    """The segmenter and the face detector, shared by every thread."""

    segmenter: Runner
    detector: Runner


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null for a moment, to hide the runtime's native INFO banner.

    The banner is printed by C++ code straight to the descriptor, which TF_CPP_MIN_LOG_LEVEL does
    not reach. Only interpreter set-up, once per process, runs inside this window.
    """
    try:
        if sys.stderr is not None:
            sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable standard error: nothing to hide
        saved = None
    if saved is None:
        yield
        return
    try:
        with open(os.devnull, "wb") as sink:
            os.dup2(sink.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _load_interpreter(path: Path) -> Interpreter:
    """A ready single-threaded LiteRT interpreter for the model at ``path``."""
    from ai_edge_litert.interpreter import Interpreter

    with _quiet_stderr():
        interpreter = Interpreter(model_path=str(path), num_threads=1)
        interpreter.allocate_tensors()
    return interpreter


_LOAD_LOCK = threading.Lock()


@functools.cache
def _cached_models() -> Models | None:
    """Load both models once; None, after one warning, when they cannot run here."""
    try:
        return Models(Runner(SEGMENTER_PATH), Runner(FACE_DETECTOR_PATH))
    except Exception as error:  # the runtime may be missing, or unable to run these models
        log.warning("person segmentation unavailable, figures guess where the face is instead: %s", error)
        return None


def shared_models() -> Models | None:
    """The shared models, loaded by whichever thread asks first."""
    with _LOAD_LOCK:
        return _cached_models()


def models_available() -> bool:
    """True when the LiteRT runtime imports and both bundled models load."""
    return shared_models() is not None
