"""WAV → RTP pcap (Ethernet/IPv4/UDP/RTP, G.711, 20 ms packets) for SIPp's `play_pcap_audio`.

SIPp plays caller audio from a capture file; this makes one from any WAV, so load tests and end-to-end
tests can speak real recorded French to the bot. Usage:
    python -m callbot.sip.rtp_pcap prompt.wav caller.pcap [--alaw]
"""

from __future__ import annotations

import argparse
import struct
import sys
from pathlib import Path

from callbot.audio.g711 import alaw_encode, ulaw_encode
from callbot.audio.resample import resample
from callbot.audio.wav import WavError, read_wav

PCMU = 0
PCMA = 8
_SAMPLE_RATE = 8000
_PTIME_MS = 20


def rtp_packets(
    pcm: bytes, payload_type: int = PCMU, ssrc: int = 0x0CA11B07, first_seq: int = 1
) -> list[bytes]:
    """RTP packets (header + G.711 payload) for 8 kHz PCM16, one per 20 ms, the last one padded."""
    encode = ulaw_encode if payload_type == PCMU else alaw_encode
    samples = _SAMPLE_RATE * _PTIME_MS // 1000
    size = samples * 2
    packets = []
    for index, offset in enumerate(range(0, len(pcm), size)):
        chunk = pcm[offset : offset + size].ljust(size, b"\0")
        header = _rtp_header(payload_type, first_seq + index, index * samples, ssrc, marker=index == 0)
        packets.append(header + encode(chunk))
    return packets


TELEPHONE_EVENT = 101
_EVENT_CODES = {**{str(digit): digit for digit in range(10)}, "*": 10, "#": 11}
_KEY_MS = 160  # how long each key is held
_END_PACKETS = 3  # RFC 4733 §2.5.1.4: the end of an event is sent three times


def key_packets(
    keys: list[tuple[int, str]], total_ms: int, ssrc: int = 0x0CA11B07
) -> list[tuple[int, bytes]]:
    """One RTP stream with keys pressed as RFC 4733 telephone-events (payload type 101), digital silence
    (PCMU) in between: `keys` are (ms from the start, key). Returns (send time in ms, packet) pairs.

    Each key is its own event (its own timestamp), so two presses of the same key are two digits — SIPp's
    one-key captures replayed one after the other share a timestamp and the second is taken for a
    retransmission of the first.
    """
    samples = _SAMPLE_RATE * _PTIME_MS // 1000
    silence = ulaw_encode(b"\0\0" * samples)
    starts = {start // _PTIME_MS * _PTIME_MS: key for start, key in keys}
    packets: list[tuple[int, bytes]] = []
    seq, t = 1, 0
    while t < total_ms:
        key = starts.get(t)
        if key is None:
            packets.append((t, _rtp_header(PCMU, seq, t * 8, ssrc) + silence))
            seq, t = seq + 1, t + _PTIME_MS
            continue
        event_ts, steps = t * 8, _KEY_MS // _PTIME_MS
        for step in range(steps - 1 + _END_PACKETS):
            ended = step >= steps - 1
            duration = min(step + 1, steps) * samples
            payload = struct.pack("!BBH", _EVENT_CODES[key], (0x80 if ended else 0) | 10, duration)
            header = _rtp_header(TELEPHONE_EVENT, seq, event_ts, ssrc, marker=step == 0)
            packets.append((t + min(step, steps - 1) * _PTIME_MS, header + payload))
            seq += 1
        t += steps * _PTIME_MS
    return packets


def write_keys_pcap(path: str | Path, keys: list[tuple[int, str]], total_ms: int) -> int:
    """Write keys pressed at given times (see `key_packets`) as an RTP capture for SIPp."""
    return _write_pcap(path, key_packets(keys, total_ms))


def write_rtp_pcap(
    path: str | Path,
    pcm: bytes,
    sample_rate: int = _SAMPLE_RATE,
    payload_type: int = PCMU,
    src: tuple[str, int] = ("127.0.0.1", 4000),
    dst: tuple[str, int] = ("127.0.0.1", 6000),
) -> int:
    """Write PCM16 mono audio as an RTP capture; returns the number of packets."""
    if sample_rate != _SAMPLE_RATE:
        pcm = resample(pcm, sample_rate, _SAMPLE_RATE)
    packets = rtp_packets(pcm, payload_type)
    return _write_pcap(path, [(index * _PTIME_MS, rtp) for index, rtp in enumerate(packets)], src, dst)


def _write_pcap(
    path: str | Path,
    packets: list[tuple[int, bytes]],
    src: tuple[str, int] = ("127.0.0.1", 4000),
    dst: tuple[str, int] = ("127.0.0.1", 6000),
) -> int:
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))  # LINKTYPE_ETHERNET
    for at_ms, rtp in packets:
        frame = _ethernet(_ipv4(src[0], dst[0], _udp(src[1], dst[1], rtp)))
        usec = at_ms * 1000
        out += struct.pack("<IIII", usec // 1_000_000, usec % 1_000_000, len(frame), len(frame))
        out += frame
    Path(path).write_bytes(bytes(out))
    return len(packets)


def _rtp_header(payload_type: int, seq: int, timestamp: int, ssrc: int, *, marker: bool = False) -> bytes:
    """RTP version 2, no padding, extension or CSRC; the marker bit starts a talkspurt or an event."""
    return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | payload_type, seq & 0xFFFF, timestamp, ssrc)


def _udp(sport: int, dport: int, payload: bytes) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload  # checksum 0: none (IPv4)


def _ipv4(src: str, dst: str, payload: bytes) -> bytes:
    header = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0x4000, 64, 17, 0, _addr(src), _addr(dst)
    )
    checksum = _checksum(header)
    return header[:10] + struct.pack("!H", checksum) + header[12:] + payload


def _ethernet(payload: bytes) -> bytes:
    return b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00" + payload


def _addr(text: str) -> bytes:
    return bytes(int(part) for part in text.split("."))


def _checksum(header: bytes) -> int:
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m callbot.sip.rtp_pcap", description=__doc__.splitlines()[0]
    )
    parser.add_argument("wav", help="input WAV (PCM16 or G.711, any rate; channel 0 is used)")
    parser.add_argument("pcap", help="output capture for SIPp play_pcap_audio")
    parser.add_argument("--alaw", action="store_true", help="PCMA payload (type 8) instead of PCMU (type 0)")
    args = parser.parse_args(argv)
    try:
        audio = read_wav(args.wav)
    except WavError as exc:
        print(f"rtp_pcap: {exc}", file=sys.stderr)
        return 2
    count = write_rtp_pcap(args.pcap, audio.channel(0), audio.sample_rate, PCMA if args.alaw else PCMU)
    print(f"{args.pcap}: {count} RTP packets, {count * _PTIME_MS / 1000:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
