"""A tool run as a canonical chat request: the tool's settings around the user's input."""

from __future__ import annotations

from shared.chat.canonical import ChatRequest, Message, Role, Sampling, Text
from shared.tools.models import InstalledTool, check_option
from shared.tools.wire import RunTool


def system_prompt(tool: InstalledTool, tone: str | None, profile: str | None) -> str:
    """The tool's instructions, with the chosen tone and profile stated after them."""
    lines = [tool.system_prompt]
    if tone:
        lines.append(f"Tone: {tone}.")
    if profile:
        lines.append(f"Write for: {profile}.")
    return "\n\n".join(lines)


def tool_request(tool: InstalledTool, run: RunTool) -> ChatRequest:
    """The chat request of one run; a per-run tone/profile must be one of the tool's options."""
    check_option("tone", run.tone, tool.tone_options)
    check_option("profile", run.profile, tool.profile_options)
    tone = run.tone or tool.tone
    profile = run.profile or tool.profile
    return ChatRequest(
        model=tool.model,
        messages=(Message(Role.USER, (Text(run.input),)),),
        system=(Text(system_prompt(tool, tone, profile)),),
        max_tokens=tool.max_output_tokens,
        sampling=Sampling(temperature=tool.temperature),
        stream=run.stream,
        include_usage=bool(run.stream_options and run.stream_options.include_usage),
    )


def log_tool_input(request_id: str, tool_id: str, text: str) -> None:
    """The run's input in the logs, only when the operator turned prompt logging on."""
    from shared.observability import get_logger
    from shared.settings import get_settings

    if get_settings().log_prompts:
        get_logger().info("tool input", extra={"request_id": request_id, "tool_id": tool_id, "input": text})
