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
        marker = 0x80 if index == 0 else 0
        header = struct.pack(
            "!BBHII", 0x80, marker | payload_type, (first_seq + index) & 0xFFFF, index * samples, ssrc
        )
        packets.append(header + encode(chunk))
    return packets


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
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))  # LINKTYPE_ETHERNET
    for index, rtp in enumerate(packets):
        frame = _ethernet(_ipv4(src[0], dst[0], _udp(src[1], dst[1], rtp)))
        usec = index * _PTIME_MS * 1000
        out += struct.pack("<IIII", usec // 1_000_000, usec % 1_000_000, len(frame), len(frame))
        out += frame
    Path(path).write_bytes(bytes(out))
    return len(packets)


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
