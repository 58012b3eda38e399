"""Pydantic models of what an OpenAI-compatible upstream answers: a chat completion or its
stream chunks. Lenient (servers differ: vLLM, Ollama, llama.cpp, hosted APIs), typed."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class FunctionCallOut(_Open):
    name: str | None = None
    arguments: str | None = None


class ToolCallOut(_Open):
    index: int | None = None
    id: str | None = None
    type: str | None = None
    function: FunctionCallOut | None = None


class AssistantOut(_Open):
    """A message or a stream delta. ``reasoning`` is the newer vLLM/OpenRouter spelling."""

    role: str | None = None
    content: str | None = None
    reasoning_content: str | None = None
    reasoning: str | None = None
    refusal: str | None = None
    tool_calls: list[ToolCallOut] | None = None

    def reasoning_text(self) -> str | None:
        return self.reasoning_content if self.reasoning_content is not None else self.reasoning


class PromptTokensDetails(_Open):
    cached_tokens: int | None = None


class CompletionTokensDetails(_Open):
    reasoning_tokens: int | None = None


class UsageOut(_Open):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int | None = None
    prompt_tokens_details: PromptTokensDetails | None = None
    completion_tokens_details: CompletionTokensDetails | None = None


class ResponseChoice(_Open):
    index: int = 0
    message: AssistantOut
    finish_reason: str | None = None
    stop_reason: str | int | None = None  # vLLM: the stop string that ended generation


class ChatCompletion(_Open):
    id: str | None = None
    created: int | None = None
    model: str | None = None
    choices: list[ResponseChoice]
    usage: UsageOut | None = None


class ChunkChoice(_Open):
    index: int = 0
    delta: AssistantOut = AssistantOut()
    finish_reason: str | None = None
    stop_reason: str | int | None = None


class ChatCompletionChunk(_Open):
    id: str | None = None
    created: int | None = None
    model: str | None = None
    choices: list[ChunkChoice] = []
    usage: UsageOut | None = None
