// fetch() for our JSON API: the parsed body, or an Error carrying the server's `detail` as its message.

function errorDetail(body, status) {
  const detail = body?.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) return detail.map((problem) => problem.msg ?? String(problem)).join("; ");
  return `the server answered ${status}`;
}

/** An API refusal: the server's own words (`message`) and its HTTP `status`, for the page to explain. */
export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

/** The ApiError for a refused `response`, in the server's words where its body gives them. */
export async function apiError(response) {
  const body = await response.json().catch(() => null);
  return new ApiError(errorDetail(body, response.status), response.status);
}

export async function fetchJson(url, options = {}) {
  const response = await fetch(url, options);
  if (!response.ok) throw await apiError(response);
  const body = await response.json().catch(() => null);
  if (body === null) throw new Error("the server's answer was not JSON");
  return body;
}
