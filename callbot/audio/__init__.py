"""Audio primitives shared by every channel: PCM16 frames, G.711, resampling, WAV files."""

from callbot.audio.frame import FRAME_MS, AudioFrame, frames_from_pcm, pcm_duration_ms, silence
from callbot.audio.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode
from callbot.audio.resample import FrameResampler, Resampler, resample
from callbot.audio.wav import WavAudio, read_wav, write_wav

__all__ = [
    "FRAME_MS",
    "AudioFrame",
    "FrameResampler",
    "Resampler",
    "WavAudio",
    "alaw_decode",
    "alaw_encode",
    "frames_from_pcm",
    "pcm_duration_ms",
    "read_wav",
    "resample",
    "silence",
    "ulaw_decode",
    "ulaw_encode",
    "write_wav",
]
