// What the SDK scripts share: the client options besides baseURL and apiKey, and how an outcome
// is written down for tests/e2e/test_node_sdks.py, which asserts on the JSON a script prints.
import { Agent, fetch } from "undici";

/** The environment a script needs, each variable checked, so that a missing one fails loudly. */
export function setting(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

/**
 * No retries (a retried error would hide the first one) and requests from the source address the
 * test chose: the per-IP chat limit of the shared stack is then this script's alone. The SDKs'
 * documented way to set Node transport options is undici's fetch paired with its dispatcher.
 */
export function transport() {
  const dispatcher = new Agent({ localAddress: setting("SLUICE_SOURCE_ADDRESS") });
  return { maxRetries: 0, timeout: 30_000, fetch, fetchOptions: { dispatcher } };
}

/** An SDK error as the test reads it: its class, status, and what the SDK parsed of the body. */
export function failure(error, baseClass) {
  return {
    class: error.constructor.name,
    sdk_error: error instanceof baseClass,
    status: error.status ?? null,
    code: error.code ?? null,
    param: error.param ?? null,
    body: error.error ?? null,
    request_id: error.requestID ?? null,
    message: error.message,
  };
}

/** The failure of ``call``, which is expected to throw; a success is recorded as such. */
export async function failureOf(call, baseClass) {
  try {
    return { class: null, unexpected_success: await call() };
  } catch (error) {
    return failure(error, baseClass);
  }
}

/**
 * Run each named scenario in order and print one JSON object of what each observed. A scenario
 * that throws is recorded (its own test then fails with the error), and the others still run.
 */
export async function report(scenarios, baseClass) {
  const seen = {};
  for (const [name, scenario] of Object.entries(scenarios)) {
    try {
      seen[name] = await scenario();
    } catch (error) {
      const account = error instanceof baseClass ? failure(error, baseClass) : String(error?.stack ?? error);
      seen[name] = { crashed: account };
    }
  }
  process.stdout.write(JSON.stringify(seen));
}
