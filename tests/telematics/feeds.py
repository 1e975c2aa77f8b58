"""The feed payloads of the telematics tests (tests/telematics/feeds/): each says which vendor's published
documentation shaped it. All were written for these tests."""

from pathlib import Path

FEEDS = Path(__file__).resolve().parent / "feeds"


def feed(name: str) -> bytes:
    return (FEEDS / name).read_bytes()
