"""Word error rate, speed and memory of the recognition engines on real human French telephone prompts.

Audio: the French Asterisk core sounds (Debian `asterisk-core-sounds-fr-wav`, 8 kHz human recordings of
IVR prompts) with their transcripts (Debian `asterisk-core-sounds-fr`, core-sounds-fr.txt.gz).
Those sounds are © Digium / the Asterisk project, licensed CC-BY-SA-3.0 — credited here as required.

Each prompt goes through what a phone call does to it (8 kHz G.711 μ-law encode and decode, then resampling
to the engine's rate), is streamed to a recognizer in 20 ms frames, and `finish()` is timed from the last
frame: that is the end-of-speech → final-text latency when the session does not wait (no speculative
decode). With `--pause-ms N` the bench calls `pause()` after the last frame and `finish()` N ms later, as a
session does while its VAD waits to be sure the caller stopped; the latency is then what is left after the
wait. Latency and wall-time RTF depend on what else runs on the machine (the load average is printed);
the CPU figures much less so.

    python bench/asr_wer.py                      # Whisper (and Vosk when a French model is installed)
    python bench/asr_wer.py --n 150 --beam 5 --min-window 30 --verbose
    python bench/asr_wer.py --n 0 --split dev        # tune on the even-numbered prompts…
    python bench/asr_wer.py --n 0 --split heldout    # …and quote the odd-numbered ones

`--split` keeps a change honest: the prompts (sorted by name, after the length filter) alternate between
a development half to try changes on and a held-out half never looked at while tuning.
"""

from __future__ import annotations

import argparse
import gzip
import re
import statistics
import sys
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from callbot.asr import ModelError, RecognizerEngine, WhisperSettings, load_engine
from callbot.audio import frames_from_pcm, read_wav, resample, ulaw_decode, ulaw_encode

SOUNDS = Path("/usr/share/asterisk/sounds/fr")
TRANSCRIPTS = (
    SOUNDS / "core-sounds-fr.txt",
    Path("/usr/share/doc/asterisk-core-sounds-fr/core-sounds-fr.txt.gz"),
)
# Spelling slips in the published transcripts (the recordings say the right word).
TYPOS = {
    "présentemnet": "présentement",
    "verouillée": "verrouillée",
    "déverouillée": "déverrouillée",
    "ce tte": "cette",
    "étez expulsé": "été expulsé",
}
NUMBERS = [
    *("zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix"),
    *("onze", "douze", "treize", "quatorze", "quinze", "seize", "dix-sept", "dix-huit", "dix-neuf", "vingt"),
]


@dataclass(frozen=True)
class Prompt:
    name: str
    text: str
    pcm8k: bytes

    @property
    def duration_s(self) -> float:
        return len(self.pcm8k) / 2 / 8000


def load_prompts(n: int, min_s: float, max_s: float, subdirs: bool, split: str = "all") -> list[Prompt]:
    source = next((p for p in TRANSCRIPTS if p.is_file()), None)
    if source is None:
        sys.exit("no transcripts: apt-get install asterisk-core-sounds-fr asterisk-core-sounds-fr-wav")
    opener = gzip.open if source.suffix == ".gz" else open
    with opener(source, "rt", encoding="utf-8") as lines:
        entries = [m.groups() for line in lines if (m := re.match(r"^([^;:][^:]*):\s*(.+)$", line.strip()))]
    prompts = []
    for name, text in sorted(entries):
        wav = SOUNDS / f"{name}.wav"
        if ("/" in name and not subdirs) or re.search(r"[\[(]", text) or not wav.is_file():
            continue
        audio = read_wav(wav)
        pcm = resample(audio.channel(0), audio.sample_rate, 8000)
        prompt = Prompt(name, text, pcm)
        if min_s <= prompt.duration_s <= max_s:
            prompts.append(prompt)
    if split != "all":
        prompts = prompts[0 if split == "dev" else 1 :: 2]
    step = max(1, len(prompts) // n) if n else 1
    return prompts[::step][:n] if n else prompts


def normalise(text: str) -> list[str]:
    text = text.lower().replace("’", "'")
    for wrong, right in TYPOS.items():
        text = text.replace(wrong, right)
    text = re.sub(r"\d+", lambda m: NUMBERS[int(m.group())] if int(m.group()) <= 20 else m.group(), text)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = re.sub(r"[^\w']+", " ", text).replace("'", "' ")
    return text.split()


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        previous, row[0] = row[:], i
        for j, h in enumerate(hyp, 1):
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (r != h))
    return row[-1]


def rss_mb() -> tuple[float, float]:
    """Current and peak resident memory of this process, MB."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def run(engine: RecognizerEngine, prompts: list[Prompt], pause_ms: int, verbose: bool) -> None:
    recognizer = engine.new_recognizer()
    rate = recognizer.sample_rate
    errors = words = 0
    latencies: list[float] = []
    cpu: list[float] = []  # CPU seconds (all threads) spent in finish(): the load-independent figure
    dropped: list[str] = []
    audio_s = busy_s = 0.0
    cpu_start = time.process_time()
    for prompt in prompts:
        pcm = resample(ulaw_decode(ulaw_encode(prompt.pcm8k)), 8000, rate)
        recognizer.start_turn()
        started = time.perf_counter()
        for frame in frames_from_pcm(pcm, rate):
            recognizer.accept(frame.pcm)
        if pause_ms:
            recognizer.pause()
            time.sleep(pause_ms / 1000)
        end_of_speech, cpu_before = time.perf_counter(), time.process_time()
        hypothesis = recognizer.finish()
        done = time.perf_counter()
        latencies.append(done - end_of_speech)
        cpu.append(time.process_time() - cpu_before)
        busy_s += done - started - pause_ms / 1000
        audio_s += prompt.duration_s
        transcript = getattr(recognizer, "last_transcript", None)  # Whisper says why it dropped a text
        if transcript is not None and transcript.dropped:
            dropped.append(f"{prompt.name}: {transcript.dropped}")
        ref, hyp = normalise(prompt.text), normalise(hypothesis.text)
        edits = edit_distance(ref, hyp)
        errors, words = errors + edits, words + len(ref)
        if verbose and edits:
            print(f"  {prompt.name:32s} {edits}/{len(ref)}  ref: {prompt.text}")
            print(f"  {'':32s}       hyp: {hypothesis.text}")
    recognizer.close()
    quantiles = (
        statistics.quantiles(latencies, n=20, method="inclusive") if len(latencies) > 1 else latencies * 19
    )
    rss, peak = rss_mb()
    print(
        f"{engine.name:8s} WER {100 * errors / max(words, 1):5.1f} %  "
        f"({errors}/{words} words, {len(prompts)} prompts, {audio_s:.0f} s of audio)\n"
        f"         latency end of speech → final text: p50 {1000 * statistics.median(latencies):.0f} ms, "
        f"p95 {1000 * quantiles[18]:.0f} ms, max {1000 * max(latencies):.0f} ms"
        f"{f' (after pause() + {pause_ms} ms wait)' if pause_ms else ''}; "
        f"CPU in finish() p50 {1000 * statistics.median(cpu):.0f} ms\n"
        f"         RTF {busy_s / audio_s:.3f} (wall time spent, not counting pause waits), "
        f"CPU RTF {(time.process_time() - cpu_start) / audio_s:.3f} (all threads)  "
        f"RSS {rss:.0f} MB (peak {peak:.0f} MB); load average now {load_average()}"
    )
    if dropped:
        print(f"         {len(dropped)} transcripts dropped as non-speech: " + "; ".join(dropped))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", default="all", help="all (default), whisper, vosk or a model name")
    parser.add_argument("--n", type=int, default=60, help="number of prompts (0 = all), default 60")
    parser.add_argument("--min-s", type=float, default=1.0, help="shortest prompt, seconds")
    parser.add_argument("--max-s", type=float, default=8.0, help="longest prompt, seconds")
    parser.add_argument("--subdirs", action="store_true", help="also digits/, letters/… (single words)")
    parser.add_argument(
        "--split",
        choices=("all", "dev", "heldout"),
        default="all",
        help="dev: even-numbered prompts (tune on these); heldout: odd-numbered ones (quote these)",
    )
    parser.add_argument("--beam", type=int, default=WhisperSettings.beam_size)
    parser.add_argument("--threads", type=int, default=WhisperSettings.cpu_threads)
    parser.add_argument("--min-window", type=float, default=WhisperSettings.min_window_s)
    parser.add_argument("--pad", type=float, default=WhisperSettings.pad_s)
    parser.add_argument("--no-prompt", action="store_true", help="Whisper without the domain prompt")
    parser.add_argument("--pause-ms", type=int, default=0, help="pause() then wait this long before finish()")
    parser.add_argument("--verbose", action="store_true", help="print every prompt with errors")
    args = parser.parse_args()

    prompts = load_prompts(args.n, args.min_s, args.max_s, args.subdirs, args.split)
    settings = WhisperSettings(
        beam_size=args.beam,
        cpu_threads=args.threads,
        min_window_s=args.min_window,
        pad_s=args.pad,
        domain_prompt="" if args.no_prompt else WhisperSettings.domain_prompt,
    )
    base_rss, _ = rss_mb()
    print(
        f"{len(prompts)} prompts; RSS before loading models {base_rss:.0f} MB; load average {load_average()}"
    )
    names = ["whisper", "vosk"] if args.engine == "all" else [args.engine]
    for name in names:
        try:
            started = time.perf_counter()
            engine = load_engine(name, whisper_settings=settings)
        except ModelError as exc:
            print(f"{name:8s} skipped: {exc}")
            continue
        print(f"{engine.description} — loaded in {time.perf_counter() - started:.1f} s")
        run(engine, prompts, args.pause_ms, args.verbose)


if __name__ == "__main__":
    main()
