/**
 * The HTML challenge page for browsers: it shows the provider's widget and, once the
 * widget hands over a token, resubmits the original request (same path, method and body
 * fields) with the token added in the provider's field. A form post is resubmitted as a
 * form (the browser shows the answer); a JSON request is resubmitted with fetch and the
 * outcome shown on the page.
 *
 * The page runs under a strict CSP: scripts only with this response's nonce or from the
 * widget's origin. The request data it embeds sits in a JSON script block with `<`
 * escaped, so no field value can end the block.
 */
import type { OriginalBody } from "../captcha/request.ts";

/** Everything the page needs. */
export interface PageInput {
  readonly nonce: string;
  readonly scriptUrl: string;
  /** The widget script's global (`turnstile`, `hcaptcha`, `grecaptcha`). */
  readonly global: string;
  readonly siteKey: string;
  /** Empty when the provider has no actions / cData. */
  readonly action: string;
  readonly cdata: string;
  readonly field: string;
  readonly method: string;
  readonly path: string;
  readonly original: OriginalBody;
  /** Shown above the widget when a token was just refused. */
  readonly retry: boolean;
}

/** Text for an HTML attribute or element. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/'/g, "&#39;");
}

/** JSON that is safe inside a <script> element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

// Plain ES5 so it runs in any browser the widgets support; no framework, no build step.
const SCRIPT = `(function () {
  var cfg = JSON.parse(document.getElementById("rg-challenge").textContent);
  var form = document.getElementById("rg-form");
  var button = document.getElementById("rg-continue");
  var status = document.getElementById("rg-status");
  var widget = null;
  var token = "";
  function say(text) { status.textContent = text; }
  function ready(value) { token = value; button.disabled = !value; }
  window.riskgateCaptchaReady = function () {
    var api = window[cfg.global];
    var options = {
      sitekey: cfg.siteKey,
      callback: function (value) { ready(value); say("Thanks. You can continue."); },
      "expired-callback": function () { ready(""); say("The check expired. Please complete it again."); },
      "error-callback": function () { ready(""); say("The check could not be completed. Reload the page to try again."); return true; }
    };
    if (cfg.action) options.action = cfg.action;
    if (cfg.cdata) options.cData = cfg.cdata;
    widget = api.render(document.getElementById("rg-widget"), options);
  };
  function resubmitForm() {
    var out = document.createElement("form");
    out.method = cfg.method;
    out.action = cfg.path;
    cfg.original.pairs.concat([[cfg.field, token]]).forEach(function (pair) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = pair[0];
      input.value = pair[1];
      out.appendChild(input);
    });
    document.body.appendChild(out);
    out.submit();
  }
  function resubmitJson() {
    var body = {};
    for (var k in cfg.original.value) body[k] = cfg.original.value[k];
    body[cfg.field] = token;
    fetch(cfg.path, { method: cfg.method, credentials: "same-origin",
      headers: { "content-type": "application/json", accept: "application/json" }, body: JSON.stringify(body) })
      .then(function (res) {
        if (res.status === 429) { say("Too many attempts. Please try again in " + (res.headers.get("retry-after") || "a few") + " seconds."); return; }
        if (res.status === 403) { ready(""); say("The check was not accepted. Please complete it again."); if (widget !== null) window[cfg.global].reset(widget); return; }
        return res.json().then(function (data) {
          form.hidden = true;
          document.getElementById("rg-done").hidden = false;
          document.getElementById("rg-result").textContent = (data && data.message) || "Done.";
        });
      })
      .catch(function () { ready(token); say("The request could not be sent. Check your connection and try again."); });
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!token) return;
    button.disabled = true;
    say("Sending...");
    if (cfg.original.type === "form") resubmitForm(); else resubmitJson();
  });
})();`;

/** The page. */
export function challengePage(input: PageInput): string {
  const data = {
    global: input.global,
    siteKey: input.siteKey,
    action: input.action,
    cdata: input.cdata,
    field: input.field,
    method: input.method,
    path: input.path,
    original: input.original,
  };
  const src = `${input.scriptUrl}${input.scriptUrl.includes("?") ? "&" : "?"}render=explicit&onload=riskgateCaptchaReady`;
  const nonce = escapeHtml(input.nonce);
  const notice = input.retry ? `<p class="rg-notice">That check was not accepted. Please try again.</p>` : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>One more step</title>
<style nonce="${nonce}">
body { font-family: system-ui, sans-serif; max-width: 30rem; margin: 4rem auto; padding: 0 1rem; color: #1f2328; line-height: 1.5; }
button { font: inherit; padding: 0.5rem 1.5rem; margin-top: 1rem; }
button[disabled] { opacity: 0.5; }
#rg-status { min-height: 1.5em; color: #57606a; }
.rg-notice { color: #9a3412; }
</style>
</head>
<body>
<main>
<h1>One more step</h1>
<p>We need to make sure this request comes from a person. Complete the check, then continue.</p>
${notice}
<form id="rg-form" method="post" action="${escapeHtml(input.path)}">
<div id="rg-widget"></div>
<p id="rg-status" role="status" aria-live="polite"></p>
<button id="rg-continue" type="submit" disabled>Continue</button>
</form>
<div id="rg-done" hidden><p id="rg-result"></p></div>
<noscript><p>This check needs JavaScript.</p></noscript>
</main>
<script type="application/json" id="rg-challenge">${scriptJson(data)}</script>
<script nonce="${nonce}">${SCRIPT}</script>
<script nonce="${nonce}" src="${escapeHtml(src)}" async defer></script>
</body>
</html>
`;
}

/**
 * The uniform answer as a page, for a browser's form post (the challenge page resubmits
 * a form as a form, so the browser shows whatever comes back). The same page whatever
 * the decision; no script, nothing loaded.
 */
export function acceptedPage(message: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Check your email</title>
</head>
<body style="font-family: system-ui, sans-serif; max-width: 30rem; margin: 4rem auto; padding: 0 1rem; line-height: 1.5">
<main>
<h1>Check your email</h1>
<p id="rg-accepted">${escapeHtml(message)}</p>
</main>
</body>
</html>
`;
}
