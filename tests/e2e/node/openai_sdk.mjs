// The official `openai` Node SDK against the local stack, changing only baseURL and apiKey.
// Prints one JSON object: scenario name -> what the SDK returned or raised.
import OpenAI from "openai";
import { failureOf, report, setting, transport } from "./observe.mjs";

const base = setting("SLUICE_BASE_URL");
const openai = (baseURL, apiKey) => new OpenAI({ baseURL, apiKey, ...transport() });
const pro = openai(`${base}/v1`, setting("SLUICE_KEY"));
const free = openai(`${base}/v1`, setting("SLUICE_FREE_KEY"));
const badKey = openai(`${base}/v1`, `sk_sluice_${"x".repeat(43)}`);
const HELLO = "Hello from the Node SDK";
const WEATHER = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Current weather in a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};

/** A chat completion of ``text`` on qwen3 unless ``extra`` says otherwise. */
function chat(client, text, extra = {}) {
  const messages = [{ role: "user", content: text }];
  return client.chat.completions.create({ model: "qwen3", messages, ...extra });
}

function answer(completion) {
  return {
    id: completion.id,
    model: completion.model,
    choices: completion.choices.map((choice) => ({
      index: choice.index,
      content: choice.message.content,
      finish_reason: choice.finish_reason,
    })),
    usage: completion.usage,
  };
}

async function listModels(client) {
  const page = await client.models.list();
  return page.data.map((model) => model.id);
}

async function create() {
  const { data, response } = await chat(pro, HELLO).withResponse();
  const names = ["x-request-id", "x-sluice-model", "x-ratelimit-limit", "x-credits-remaining"];
  const headers = Object.fromEntries(names.map((name) => [name, response.headers.get(name)]));
  return { ...answer(data), headers };
}

async function stream() {
  const chunks = [];
  const events = await chat(pro, HELLO, { stream: true, stream_options: { include_usage: true } });
  for await (const chunk of events) chunks.push(chunk);
  const choices = chunks.flatMap((chunk) => chunk.choices);
  const deltas = choices.map((choice) => choice.delta.content ?? "");
  return {
    ids: [...new Set(chunks.map((chunk) => chunk.id))],
    text: deltas.join(""),
    content_chunks: deltas.filter(Boolean).length,
    finish_reasons: choices.map((choice) => choice.finish_reason).filter(Boolean),
    usage_chunks: chunks.filter((chunk) => chunk.usage).length,
    last: { choices: chunks.at(-1).choices.length, usage: chunks.at(-1).usage },
  };
}

async function toolRoundTrip() {
  const messages = [{ role: "user", content: "What is the weather in Zagreb? Use the get_weather tool." }];
  const first = await pro.chat.completions.create({ model: "qwen3", messages, tools: [WEATHER] });
  const message = first.choices[0].message;
  const [call] = message.tool_calls;
  // The assistant message goes back as the SDK returned it, as the SDK's own examples do.
  messages.push(message, { role: "tool", tool_call_id: call.id, content: "18 degrees and sunny" });
  const second = await pro.chat.completions.create({ model: "qwen3", messages, tools: [WEATHER] });
  return {
    finish_reason: first.choices[0].finish_reason,
    calls: message.tool_calls.map(({ id, function: { name, arguments: json } }) => ({
      id,
      name,
      arguments: JSON.parse(json),
    })),
    answer: answer(second),
  };
}

async function jsonMode() {
  const completion = await chat(pro, "weather as JSON", { response_format: { type: "json_object" } });
  return JSON.parse(completion.choices[0].message.content);
}

async function image() {
  const content = [
    { type: "text", text: "describe it" },
    { type: "image_url", image_url: { url: setting("SLUICE_IMAGE_URL") } },
  ];
  const messages = [{ role: "user", content }];
  return answer(await pro.chat.completions.create({ model: "kimi-k2.5", messages }));
}

async function apiBaseUrl() {
  const client = openai(`${base}/api/v1`, setting("SLUICE_KEY"));
  return { models: await listModels(client), answer: answer(await chat(client, HELLO)) };
}

const refused = (call) => failureOf(call, OpenAI.APIError);

await report(
  {
    models: () => listModels(pro),
    create,
    stream,
    tools: toolRoundTrip,
    json_mode: jsonMode,
    two_choices: async () => answer(await chat(pro, "give me two", { n: 2 })),
    stop: async () => answer(await chat(pro, "stop early", { stop: ["reply"] })),
    image,
    api_base_url: apiBaseUrl,
    bad_key: () => refused(() => chat(badKey, "x")),
    free_tools: () => refused(() => chat(free, "x", { model: "auto", tools: [WEATHER] })),
    free_pro_model: () => refused(() => chat(free, "x")),
    unknown_model: () => refused(() => chat(pro, "x", { model: "no-such-model" })),
    bad_temperature: () => refused(() => chat(pro, "x", { temperature: 5 })),
    free_body_too_large: () => refused(() => chat(free, "a".repeat(70 * 1024), { model: "auto" })),
  },
  OpenAI.APIError,
);
