"""A fake OpenAI-compatible API (`/v1/embeddings` for now) speaking the real wire format.

Embeddings are deterministic pseudo-random unit vectors seeded by the input text, so equal texts get
equal vectors and tests can assert on what was sent (batches, truncated inputs, model, dimensions).
"""

from __future__ import annotations

import hashlib

import numpy as np

from tests.fakes.http_server import FakeServer, RecordedRequest, Reply


def fake_vector(text: str, dim: int) -> list[float]:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    vector = np.random.default_rng(seed).standard_normal(dim)
    return (vector / np.linalg.norm(vector)).round(6).tolist()


class FakeOpenAI(FakeServer):
    def __init__(self, *, dim: int = 32, api_key: str = "sk-test") -> None:
        super().__init__()
        self.dim = dim
        self.api_key = api_key

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    def embedding_requests(self) -> list[RecordedRequest]:
        return self.requests_to("/embeddings", "POST")

    def route(self, request: RecordedRequest) -> Reply:
        if request.header("authorization") != f"Bearer {self.api_key}":
            return Reply.json(
                {
                    "error": {
                        "message": "Incorrect API key provided",
                        "type": "invalid_request_error",
                        "code": "invalid_api_key",
                    }
                },
                status=401,
            )
        if request.method == "POST" and request.path.endswith("/embeddings"):
            return self._embeddings(request)
        return Reply.json(
            {"error": {"message": f"no route {request.path}", "type": "invalid_request_error"}}, 404
        )

    def _embeddings(self, request: RecordedRequest) -> Reply:
        body = request.json()
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        dim = int(body.get("dimensions") or self.dim)
        data = [
            {"object": "embedding", "index": i, "embedding": fake_vector(text, dim)}
            for i, text in enumerate(inputs)
        ]
        tokens = sum(len(str(text).split()) for text in inputs)
        return Reply.json(
            {
                "object": "list",
                "data": data,
                "model": body["model"],
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )
