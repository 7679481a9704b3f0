// fetch() for our JSON API: the parsed body, or an Error carrying the server's `detail` as its message.

function errorDetail(body, status) {
  const detail = body?.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) return detail.map((problem) => problem.msg ?? String(problem)).join("; ");
  return `the server answered ${status}`;
}

export async function fetchJson(url, options = {}) {
  const response = await fetch(url, options);
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new Error(errorDetail(body, response.status));
  if (body === null) throw new Error("the server's answer was not JSON");
  return body;
}
