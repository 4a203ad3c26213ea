/**
 * The two HTML documents the admin area serves: the dashboard shell (its script and
 * stylesheet come from /__riskgate/assets/, built from src/admin/dashboard/) and the
 * login form shown with a 401 to browsers without credentials. Both are static: no
 * data is interpolated into them except the fixed messages below, escaped anyway.
 */

/** Headers every admin HTML page carries. */
function pageHeaders(csp: string): Record<string, string> {
  return {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "content-security-policy": csp,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
  };
}

const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
// The login page has no script at all; its few styles are inline.
const LOGIN_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** The dashboard shell; `version` busts the asset cache on deploy. */
export function dashboardPage(version: string): Response {
  const v = encodeURIComponent(version);
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>riskgate · operator dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/__riskgate/assets/style.css?v=${v}">
<script type="module" src="/__riskgate/assets/main.js?v=${v}"></script>
</head>
<body>
<header class="top">
  <h1>riskgate <span>operator dashboard</span></h1>
  <div class="controls">
    <label>window <select id="window">
      <option value="15">15 min</option><option value="60" selected>1 hour</option>
      <option value="360">6 hours</option><option value="1440">24 hours</option>
    </select></label>
    <a href="/__riskgate/experiments" data-testid="experiments-link">experiments</a>
    <span id="updated" class="muted">loading…</span>
    <form method="post" action="/__riskgate/logout"><button type="submit">log out</button></form>
  </div>
</header>
<main id="app" aria-busy="true">
  <p class="muted">Loading… (this page needs JavaScript)</p>
</main>
</body>
</html>`;
  return new Response(html, { status: 200, headers: pageHeaders(DASHBOARD_CSP) });
}

/**
 * A return path after sign-in that cannot leave the admin area: a same-origin absolute
 * path under /__riskgate/ (no scheme, no `//` or `\\` authority, no control characters, no
 * dot segments, no encoded slashes); null otherwise, and the dashboard is used.
 */
export function safeReturnPath(raw: string | null | undefined): string | null {
  if (typeof raw !== "string" || raw.length === 0 || raw.length > 512) return null;
  if (!raw.startsWith("/__riskgate/")) return null;
  if (/\p{Cc}/u.test(raw) || raw.includes("\\") || raw.includes("//")) return null;
  const path = raw.split(/[?#]/, 1)[0] ?? "";
  if (/%(2f|5c|2e)/i.test(path) || path.split("/").some((seg) => seg === "." || seg === "..")) return null;
  // Parsed against a throwaway origin, the path must stay on it and under the admin base.
  const url = new URL(raw, "https://riskgate.invalid");
  if (url.origin !== "https://riskgate.invalid" || !url.pathname.startsWith("/__riskgate/")) return null;
  if (url.pathname === "/__riskgate/login") return null;
  return `${url.pathname}${url.search}`;
}

/** The login form, sent with 401 (or 503 when admin is not configured). */
export function loginPage(options: { status: 401 | 503; message: string; tokenLogin: boolean; next?: string | null }): Response {
  // Where to go after signing in (already checked by safeReturnPath, escaped anyway).
  const next = options.next == null ? "" : `\n  <input type="hidden" name="next" value="${escapeHtml(options.next)}">`;
  const form = options.tokenLogin
    ? `<form method="post" action="/__riskgate/login">${next}
  <label for="token">Admin token</label>
  <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
  <button type="submit">Open dashboard</button>
</form>`
    : "";
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>riskgate · sign in</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;background:#0f172a;color:#e2e8f0;display:grid;place-items:center;min-height:100vh;margin:0}
main{background:#1e293b;padding:2rem;border-radius:12px;max-width:24rem;width:100%}
h1{font-size:1.2rem;margin:0 0 1rem}label{display:block;margin:.5rem 0 .25rem}
input{width:100%;box-sizing:border-box;padding:.5rem;border-radius:6px;border:1px solid #475569;background:#0f172a;color:inherit}
button{margin-top:1rem;padding:.5rem 1rem;border:0;border-radius:6px;background:#38bdf8;color:#0f172a;font-weight:600}
p{color:#94a3b8}
</style>
</head>
<body>
<main>
<h1>riskgate admin</h1>
<p id="message">${escapeHtml(options.message)}</p>
${form}
</main>
</body>
</html>`;
  return new Response(html, {
    status: options.status,
    headers: { ...pageHeaders(LOGIN_CSP), "www-authenticate": 'Bearer realm="riskgate-admin"' },
  });
}
