// The local stand-in for Turnstile's widget script (api.js), served by the stand-in at
// /turnstile/v0/api.js. It implements the part of the documented client API riskgate's
// challenge page uses: explicit rendering (`?render=explicit&onload=fn`),
// `turnstile.render(element, { sitekey, action, cData, callback, "error-callback",
// "expired-callback" })`, `reset`, `getResponse`, `remove`, and a hidden
// `cf-turnstile-response` input in the widget. Tokens come from the stand-in's /token.
//
// Dummy sitekeys behave as documented: 1x…AA and 1x…BB pass without interaction,
// 2x…AB and 2x…BB always block, 3x…FF (and any real-looking key) wants a click.
(() => {
  const BASE = "__STANDIN_BASE__";
  const script = document.currentScript;
  const params = new URL(script ? script.src : BASE).searchParams;
  const widgets = new Map();
  let next = 0;

  function mode(sitekey) {
    if (/^1x0+(AA|BB)$/.test(sitekey)) return "pass";
    if (/^2x0+(AB|BB)$/.test(sitekey)) return "block";
    return "interactive";
  }

  function solve(w) {
    w.status.textContent = "Verifying...";
    fetch(`${BASE}/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sitekey: w.options.sitekey, action: w.options.action || "", cdata: w.options.cData || "", hostname: location.hostname }),
    })
      .then((res) => (res.ok ? res.json() : Promise.reject(new Error(String(res.status)))))
      .then((data) => {
        w.token = data.token;
        w.input.value = data.token;
        w.box.checked = true;
        w.box.disabled = true;
        w.status.textContent = "Success!";
        if (typeof w.options.callback === "function") w.options.callback(data.token);
      })
      .catch(() => fail(w, "300010"));
  }

  function fail(w, code) {
    w.status.textContent = "Verification failed";
    const handler = w.options["error-callback"];
    if (typeof handler === "function") handler(code);
  }

  function build(w) {
    const root = w.container;
    root.textContent = "";
    const frame = document.createElement("div");
    frame.className = "rg-standin-widget";
    frame.style.cssText = "display:inline-flex;align-items:center;gap:8px;border:1px solid #d0d7de;border-radius:4px;padding:10px 14px;font:14px system-ui,sans-serif";
    w.box = document.createElement("input");
    w.box.type = "checkbox";
    w.box.id = `rg-standin-box-${w.id}`;
    w.box.setAttribute("aria-label", "Verify you are human");
    const label = document.createElement("label");
    label.htmlFor = w.box.id;
    label.textContent = "Verify you are human";
    w.status = document.createElement("span");
    w.status.style.cssText = "color:#57606a;font-size:12px";
    w.status.textContent = "(local Turnstile stand-in)";
    w.input = document.createElement("input");
    w.input.type = "hidden";
    w.input.name = "cf-turnstile-response";
    frame.append(w.box, label, w.status, w.input);
    root.appendChild(frame);
    w.token = "";
    const kind = mode(w.options.sitekey);
    if (kind === "pass") setTimeout(() => solve(w), 0);
    else if (kind === "block") setTimeout(() => fail(w, "600010"), 0);
    else w.box.addEventListener("change", () => w.box.checked && solve(w));
  }

  window.turnstile = {
    render(target, options) {
      const container = typeof target === "string" ? document.querySelector(target) : target;
      if (!container) throw new Error("turnstile stand-in: no container");
      const w = { id: `w${next++}`, container, options: options || {} };
      widgets.set(w.id, w);
      build(w);
      return w.id;
    },
    reset(id) {
      const w = widgets.get(id);
      if (w) build(w);
    },
    getResponse(id) {
      const w = widgets.get(id);
      return w ? w.token : undefined;
    },
    remove(id) {
      const w = widgets.get(id);
      if (w) w.container.textContent = "";
      widgets.delete(id);
    },
  };

  const onload = params.get("onload");
  if (onload && typeof window[onload] === "function") setTimeout(() => window[onload](), 0);
})();
