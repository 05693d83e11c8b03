"""What a profile aims at, from the environment `civic-harness load` sets (or a person running locust by
hand): CIVIC_HARNESS_LOAD_TARGETS (JSON: name -> base URL) and the credentials it needs."""

from __future__ import annotations

import json
import os
import secrets
import uuid

from contracts.scenario import demo_city

TARGETS: dict[str, str] = json.loads(os.environ.get("CIVIC_HARNESS_LOAD_TARGETS", "{}"))
API_KEY = os.environ.get("CIVIC_HARNESS_LOAD_API_KEY", "harness-demo-key")
ADMIN_TOKEN = os.environ.get("CIVIC_HARNESS_LOAD_ADMIN_TOKEN", "")
VENDOR_USER = os.environ.get("CIVIC_HARNESS_LOAD_VENDOR_USER", "harness")
VENDOR_PASSWORD = os.environ.get("CIVIC_HARNESS_LOAD_VENDOR_PASSWORD", "harness")
POINT = {k: str(v) for k, v in demo_city().point().items()}  # the library's demo city (contracts/scenarios)
# A 1x1 PNG: a photo costs its upload, not its size.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d4944415478da63f8cfc0f01f0005000201a5f6e2c90000000049454e44ae426082"
)


def target(name: str) -> str:
    try:
        return TARGETS[name].rstrip("/")
    except KeyError:
        raise RuntimeError(f"no {name} target: set CIVIC_HARNESS_LOAD_TARGETS (civic-harness load does)") from None


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    """A multipart/form-data body (locust's FastHttpUser sends bytes, not files)."""
    boundary = f"civic{uuid.uuid4().hex}"
    out = bytearray()
    for name, value in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    for name, (filename, content, kind) in files.items():
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {kind}\r\n\r\n"
        ).encode()
        out += content + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def email() -> str:
    return f"load-{secrets.token_hex(6)}@example.org"
