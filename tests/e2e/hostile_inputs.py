"""Hand-written hostile requests for tests/e2e/test_fuzz_api.py: malformed, oversized and odd bodies
and headers that every route must answer below 500, with an error in the route's own format."""

from __future__ import annotations

# (name, headers, body)
NESTED = 100_000
HOSTILE: list[tuple[str, dict[str, str], bytes]] = [
    (
        "invalid utf-8",
        {"content-type": "application/json"},
        b'{"model": "qwen3\xff\xfe", "messages": [\xc3\x28]}',
    ),
    ("lone surrogate escape", {"content-type": "application/json"}, b'{"model": "\\ud800", "messages": []}'),
    ("10 MB body", {"content-type": "application/json"}, b'{"model": "' + b"a" * (10 * 1024 * 1024) + b'"}'),
    ("just over 10 MiB", {"content-type": "application/json"}, b" " * (10 * 1024 * 1024 + 1)),
    ("nested arrays", {"content-type": "application/json"}, b"[" * NESTED + b"]" * NESTED),
    ("nested objects", {"content-type": "application/json"}, b'{"a":' * NESTED + b"1" + b"}" * NESTED),
    (
        "nested 5k, under every body limit",
        {"content-type": "application/json"},
        b'{"a":[' * 2500 + b"]}" * 2500,
    ),
    ("text/plain", {"content-type": "text/plain"}, b"hello"),
    ("form", {"content-type": "application/x-www-form-urlencoded"}, b"model=qwen3&messages=hi"),
    ("multipart", {"content-type": "multipart/form-data; boundary=x"}, b"--x\r\n\r\n{}\r\n--x--"),
    ("no content type", {}, b'{"model": "qwen3"}'),
    ("empty body", {"content-type": "application/json"}, b""),
    ("json null", {"content-type": "application/json"}, b"null"),
    ("json array", {"content-type": "application/json"}, b"[1, 2]"),
    (
        "1e400",
        {"content-type": "application/json"},
        b'{"model": "qwen3", "max_tokens": 1e400, "temperature": 1e400, '
        b'"messages": [{"role": "user", "content": "hi"}]}',
    ),
    (
        "-1e400",
        {"content-type": "application/json"},
        b'{"model": "qwen3", "max_tokens": -1e400, "top_p": -1e400, '
        b'"messages": [{"role": "user", "content": "hi"}]}',
    ),
    (
        "NaN and Infinity",
        {"content-type": "application/json"},
        b'{"model": "qwen3", "temperature": NaN, '
        b'"max_tokens": Infinity, "messages": [{"role": "user", "content": "hi"}]}',
    ),
    (
        "4000-digit integers",
        {"content-type": "application/json"},
        b'{"model": "qwen3", "max_tokens": 1'
        + b"0" * 4000
        + b', "seed": 1'
        + b"0" * 4000
        + b', "temperature": 1'
        + b"0" * 4000
        + b', "messages": [{"role": "user", "content": "hi"}]}',
    ),
    (
        "10**4000 digits",
        {"content-type": "application/json"},
        b'{"model": "qwen3", "max_tokens": 1'
        + b"0" * 10_000
        + b', "messages": [{"role": "user", "content": "hi"}]}',
    ),
    (
        "null bytes in strings",
        {"content-type": "application/json"},
        b'{"model": "qwen3\\u0000", "name": "a\\u0000b", '
        b'"messages": [{"role": "user", "content": "a\\u0000b"}], "max_tokens": 8}',
    ),
    (
        "explicit nulls",
        {"content-type": "application/json"},
        b'{"model": "qwen3", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 8, '
        b'"stop": null, "stop_sequences": null, "temperature": null, "tools": null, "tool_choice": null, '
        b'"system": null, "metadata": null, "stream": null, "n": null, "name": null}',
    ),
    ("raw null bytes", {"content-type": "application/json"}, b'{"model": "qwen3",\x00 "messages": []}\x00'),
    # Valid enough to reach the upstream call: fields passed on as they are (unknown fields, tool
    # schemas, message text) holding what the upstream request body cannot carry.
    (
        "NaN in a field passed on",
        {"content-type": "application/json"},
        b'{"model": "qwen3", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}], "knob": NaN}',
    ),
    (
        "NaN in a field passed on, streamed",
        {"content-type": "application/json"},
        b'{"model": "qwen3", "max_tokens": 8, "stream": true, '
        b'"messages": [{"role": "user", "content": "hi"}], "knob": NaN}',
    ),
    (
        "1e999 in a tool schema",
        {"content-type": "application/json"},
        b'{"model": "qwen3", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}], '
        b'"tools": [{"type": "function", "function": {"name": "f", "parameters": {"x": 1e999}}}]}',
    ),
    (
        "lone surrogate in message text",
        {"content-type": "application/json"},
        b'{"model": "qwen3", "max_tokens": 8, "messages": [{"role": "user", "content": "a\\udfffb"}]}',
    ),
    ("16 KB header", {"content-type": "application/json", "x-junk": "A" * 16 * 1024}, b'{"model": "qwen3"}'),
    (
        "16 KB authorization",
        {"content-type": "application/json", "authorization": "Bearer " + "k" * 16 * 1024},
        b'{"model": "qwen3"}',
    ),
    (
        "16 KB api key",
        {"content-type": "application/json", "x-api-key": "sk_sluice_" + "k" * 16 * 1024},
        b'{"model": "qwen3"}',
    ),
]
