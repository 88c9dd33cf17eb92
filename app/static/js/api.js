// The service's API, same origin. Every call answers the parsed JSON or throws an ApiError.

export class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

async function parse(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // an empty or non-JSON body: the status alone says what happened
  }
  if (!response.ok) {
    throw new ApiError(response.status, body?.code ?? null, body?.detail ?? null);
  }
  return body;
}

export async function getJson(path, { signal } = {}) {
  return parse(await fetch(path, { signal, headers: { Accept: "application/json" } }));
}

export async function postJson(path, payload) {
  return parse(
    await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(payload),
    }),
  );
}

export async function postForm(path, form) {
  return parse(await fetch(path, { method: "POST", body: form, headers: { Accept: "application/json" } }));
}

/** The JSON at `path`, or null when the service does not offer it (an older service, a
 * cadastre without its tiles). */
export async function optionalJson(path) {
  try {
    return await getJson(path);
  } catch (error) {
    if (error instanceof ApiError) return null;
    throw error;
  }
}
