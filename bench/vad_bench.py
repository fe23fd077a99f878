"""CPU cost of voice activity detection, in µs of CPU per second of audio (one call, one core).

Runs each detector alone and behind the endpointer over real French speech with pauses (the Debian
asterisk-core-sounds-fr-wav prompts; white noise stands in when they are missing), at 8 kHz and 16 kHz,
and the memory a Silero detector costs per call with each backend.

    /work/venv/bin/python bench/vad_bench.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from callbot.audio import frames_from_pcm, read_wav, resample
from callbot.vad import Endpointer, SileroDetector, SpeechDetector, WebRtcDetector
from callbot.vad.silero import Backend

PROMPTS = Path("/usr/share/asterisk/sounds/fr")
NAMES = ("vm-login.wav", "conf-getpin.wav", "please-try-again.wav", "transfer.wav", "vm-instructions.wav")


def caller_audio() -> tuple[bytes, str]:
    """About 25 s of 8 kHz caller audio: prompts separated by a second of low line noise."""
    rng = np.random.default_rng(3)
    gap = np.zeros(8000)
    if all((PROMPTS / name).is_file() for name in NAMES):
        parts = [gap]
        for name in NAMES:
            parts += [np.frombuffer(read_wav(PROMPTS / name).pcm, dtype="<i2").astype(np.float64), gap]
        source = "asterisk French prompts + -55 dBFS noise"
    else:
        parts = [rng.normal(0, 3000, 8000 * 20)]
        source = "white noise (prompts not installed)"
    signal = np.concatenate(parts) + rng.normal(0, 32768 * 10 ** (-55 / 20), sum(len(p) for p in parts))
    return bytes(np.clip(np.round(signal), -32768, 32767).astype("<i2").tobytes()), source


def cpu_us_per_audio_second(work: Callable[[], object], audio_seconds: float, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.process_time()
        work()
        samples.append((time.process_time() - start) / audio_seconds * 1e6)
    return statistics.median(samples)


def detector_only(make: Callable[[], SpeechDetector], pcm: bytes, rate: int) -> Callable[[], object]:
    frames = [frame.pcm for frame in frames_from_pcm(pcm, rate)]

    def work() -> object:
        detector = make()
        return [detector.is_speech(frame, rate) for frame in frames]

    return work


def with_endpointer(make: Callable[[], SpeechDetector], pcm: bytes, rate: int) -> Callable[[], object]:
    frames = list(frames_from_pcm(pcm, rate))

    def work() -> object:
        endpointer = Endpointer(make(), sample_rate=rate)
        return [endpointer.process(frame) for frame in frames]

    return work


class ReplayedDecisions:
    """Gives back decisions recorded from a real detector, to time the endpointer's own logic."""

    def __init__(self, decisions: list[bool]) -> None:
        self.decisions = decisions
        self.index = 0

    def is_speech(self, pcm: bytes, sample_rate: int) -> bool:
        self.index += 1
        return self.decisions[self.index - 1]

    def reset(self) -> None:
        self.index = 0


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_per_detector_mb(backend: Backend, count: int = 20) -> float:
    """Peak-RSS growth per Silero detector that has scored audio, `count` of them alive at once."""
    SileroDetector(backend=backend).is_speech(bytes(320), 8000)  # loads what all calls share
    before = rss_mb()
    detectors = [SileroDetector(backend=backend) for _ in range(count)]
    for detector in detectors:
        detector.is_speech(bytes(640), 8000)
        detector.is_speech(bytes(640), 8000)
    return (rss_mb() - before) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure; the median is printed")
    args = parser.parse_args()
    pcm8, source = caller_audio()
    seconds = len(pcm8) / 2 / 8000
    print(f"audio: {seconds:.1f} s of {source}; median of {args.repeat} runs; CPU µs per audio-second")
    detectors: dict[str, Callable[[], SpeechDetector]] = {
        "webrtc (mode 3)": WebRtcDetector,
        "silero, onnxruntime": lambda: SileroDetector(backend="onnxruntime"),
        "silero, lite": lambda: SileroDetector(backend="lite"),
    }
    print(f"{'detector':<22}{'rate':>7}{'detector':>10}{'with endpointer':>17}")
    for rate in (8000, 16000):
        pcm = resample(pcm8, 8000, rate)
        for name, make in detectors.items():
            alone = cpu_us_per_audio_second(detector_only(make, pcm, rate), seconds, args.repeat)
            total = cpu_us_per_audio_second(with_endpointer(make, pcm, rate), seconds, args.repeat)
            print(f"{name:<22}{rate:>7}{alone:>10.0f}{total:>17.0f}")
        webrtc = WebRtcDetector()
        decisions = [webrtc.is_speech(frame.pcm, rate) for frame in frames_from_pcm(pcm, rate)]
        logic = with_endpointer(partial(ReplayedDecisions, decisions), pcm, rate)
        cost = cpu_us_per_audio_second(logic, seconds, args.repeat)
        print(f"{'endpointer logic alone':<22}{rate:>7}{'':>10}{cost:>17.0f}")
    backends: tuple[Backend, ...] = ("onnxruntime", "lite")
    for backend in backends:
        print(f"silero {backend}: {memory_per_detector_mb(backend):.1f} MB RSS per extra call")


if __name__ == "__main__":
    main()
