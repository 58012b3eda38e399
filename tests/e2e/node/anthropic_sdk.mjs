// The official `@anthropic-ai/sdk` Node SDK against the local stack, changing only baseURL and the key.
// Prints one JSON object: scenario name -> what the SDK returned or raised.
import Anthropic from "@anthropic-ai/sdk";
import { failureOf, report, setting, transport } from "./observe.mjs";

const base = setting("SLUICE_BASE_URL");
const key = setting("SLUICE_KEY");
const anthropic = (options) => new Anthropic({ baseURL: base, ...options, ...transport() });
const pro = anthropic({ apiKey: key });
const free = anthropic({ apiKey: setting("SLUICE_FREE_KEY") });
const badKey = anthropic({ apiKey: `sk_sluice_${"z".repeat(43)}` });
const user = (text) => [{ role: "user", content: text }];
const HELLO = {
  model: "kimi-k2",
  max_tokens: 200,
  system: "Answer briefly.",
  messages: user("Hello from the Node SDK"),
};
const SMALL = { max_tokens: 10, messages: user("x") };
const WEATHER = {
  name: "get_weather",
  description: "Current weather for a city.",
  input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};

function answer(message) {
  const { id, type, model, content, stop_reason, stop_sequence, usage, _request_id } = message;
  return { id, type, model, content, stop_reason, stop_sequence, usage, request_id: _request_id ?? null };
}

async function stream() {
  const deltas = [];
  const events = [];
  const running = pro.messages.stream(HELLO);
  running.on("text", (delta) => deltas.push(delta));
  running.on("streamEvent", (event) => events.push(event.type));
  const final = await running.finalMessage();
  return { deltas, events, final: answer(final) };
}

async function toolRoundTrip() {
  const ask = { model: "kimi-k2.6", max_tokens: 300, tools: [WEATHER] };
  const messages = user("Use the tool get_weather for Zagreb");
  const first = await pro.messages.create({ ...ask, messages });
  const call = first.content.find((block) => block.type === "tool_use");
  // The assistant turn goes back as the SDK returned it, as the SDK's own examples do.
  messages.push(
    { role: "assistant", content: first.content },
    { role: "user", content: [{ type: "tool_result", tool_use_id: call.id, content: "Sunny, 24 C" }] },
  );
  const second = await pro.messages.create({ ...ask, messages });
  return { first: answer(first), second: answer(second) };
}

const refused = (call) => failureOf(call, Anthropic.APIError);

await report(
  {
    create: async () => answer(await pro.messages.create(HELLO)),
    stream,
    tools: toolRoundTrip,
    count_tokens: () => pro.messages.countTokens({ model: "kimi-k2", messages: user("y".repeat(800)) }),
    api_base_url: async () =>
      answer(await anthropic({ baseURL: `${base}/api`, apiKey: key }).messages.create(HELLO)),
    // Since 1.0 the SDK sends `apiKey` as a Bearer token; clients that send X-Api-Key remain.
    x_api_key: async () =>
      answer(await anthropic({ apiKey: null, defaultHeaders: { "X-Api-Key": key } }).messages.create(HELLO)),
    bad_key: () => refused(() => badKey.messages.create({ model: "kimi-k2", ...SMALL })),
    unknown_model: () => refused(() => pro.messages.create({ model: "claude-nonexistent", ...SMALL })),
    bad_temperature: () =>
      refused(() => pro.messages.create({ model: "kimi-k2", temperature: 1.5, ...SMALL })),
    free_pro_model: () => refused(() => free.messages.create({ model: "kimi-k2", ...SMALL })),
    free_tools: () => refused(() => free.messages.create({ model: "auto", tools: [WEATHER], ...SMALL })),
  },
  Anthropic.APIError,
);
