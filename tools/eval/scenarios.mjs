// The labelled traffic of the evaluation, as a plan: actors, each an ordered list of
// steps (resets and outcome reports) with compressed delays. Deterministic given the seed
// and the address data; no I/O (tools/eval/run.mjs plays the plan).
//
// Groups: `setup` (history made "weeks ago": a verified reset on the user's usual device,
// not scored), `legit`, `attack`, `owner` (a flooded account's owner, after the flood).
import { rng, tools } from "./core.mjs";
import { BROWSERS, browser, browserHeaders, CONSUMER_VPN, HOME_SHARES, HOSTING, language, MOBILE, PRIVATE_RELAY, RESIDENTIAL, TRAVEL_DESTINATIONS, UNIVERSITY } from "./population.mjs";

/** Seeds the rules may be tuned on, and seeds kept out of tuning (report both). */
export const SEED_SETS = { tune: [1, 2], holdout: [101, 102] };

/** Per-seed sizes; `scale` multiplies them (the defaults keep a seed to ~500 requests). */
const SIZES = {
  newUsers: 80, historyUsers: 40, nat: 12, enum: 2, enumEach: 35, fakeBots: 4, fakeEach: 14, botnet: 60, takeover: 14, flood: 36, pump: 3, pumpEach: 22,
  // Legitimate users on VPNs and travelling (EVALUATION.md, "Legitimate VPN users and travellers").
  vpnNew: 3, vpnReturning: 3, travelNew: 2, travelReturning: 3,
};
/** Share of Safari users whose requests leave through iCloud Private Relay (an assumption). */
const PRIVATE_RELAY_SHARE = 0.1;

const SCRIPT_UAS = ["python-requests/2.32.3", "curl/8.5.0", "Go-http-client/1.1", "axios/1.7.9", "okhttp/4.12.0", "Python/3.12 aiohttp/3.10.5"];

/**
 * Build the plan for `seed`. `net` = { draw(t, asn, country), has(asn, country) }.
 * @returns {{ seed: number, actors: object[] }}
 */
export function plan(seed, net, { scale = 1 } = {}) {
  const t = tools(rng(seed));
  const size = (k) => Math.max(1, Math.round(SIZES[k] * scale));
  const actors = [];
  const domain = `s${seed}.example.com`;
  let userNo = 0;
  const available = (list, country) => list.filter(([asn]) => net.has(asn, country));
  const homeIp = (country, tt = t) => net.draw(tt, tt.weighted(available(RESIDENTIAL[country], country)), country);
  const mobileNetwork = (country, tt = t) => tt.weighted(available(MOBILE[country] ?? RESIDENTIAL[country], country));
  const hostingExit = (notCountry) => {
    const options = HOSTING.flatMap(([asn, countries]) => countries.filter((c) => c !== notCountry && net.has(asn, c)).map((c) => [asn, c]));
    const [asn, c] = t.pick(options);
    return { ip: net.draw(t, asn, c), asn, country: c };
  };
  // A user: email, home country, usual browser and language, home address.
  const user = (tt = t) => {
    const country = tt.weighted(HOME_SHARES);
    const b = browser(tt);
    return { email: `user${++userNo}.${tt.hex(6)}@${domain}`, country, browser: b, lang: language(tt, country), ip: homeIp(country, tt), form: tt.chance(0.15) };
  };
  const reset = (u, extra = {}) => ({
    kind: "reset",
    email: u.email,
    ip: u.ip,
    headers: browserHeaders(u.browser, u.lang, { form: u.form }),
    form: u.form,
    jar: u.email, // the browser keeps the gateway's device cookie
    ...extra,
  });
  // Retries: ~10 % click twice within seconds, ~3 % three times.
  const withRetriesFrom = (tt, step, tag) => {
    const n = tt.chance(0.03) ? 3 : tt.chance(0.1) ? 2 : 1;
    return Array.from({ length: n }, (_, i) => ({ ...step, delay: i === 0 ? step.delay ?? 0 : tt.int(400, 2500), tags: i > 0 ? [...(step.tags ?? []), "retry"] : step.tags ?? [], cls: step.cls ?? tag }));
  };
  const withRetries = (step, tag) => withRetriesFrom(t, step, tag);

  // --- legitimate: first-time resetters (no history), some on mobile carriers.
  const mobileShared = new Map(); // country -> CGNAT addresses already handed out
  for (let i = 0; i < size("newUsers"); i++) {
    const u = user();
    let cls = "first-time";
    if (u.browser.mobile && t.chance(0.35)) {
      // On the phone's mobile data: carrier-grade NAT, a few users share an address.
      const asn = mobileNetwork(u.country);
      const shared = mobileShared.get(`${asn}:${u.country}`) ?? [];
      if (shared.length > 0 && t.chance(0.5)) u.ip = t.pick(shared);
      else {
        u.ip = net.draw(t, asn, u.country);
        shared.push(u.ip);
        mobileShared.set(`${asn}:${u.country}`, shared);
      }
      cls = "first-time (mobile CGNAT)";
    }
    actors.push({ group: "legit", steps: withRetries(reset(u, { cls, group: "legit" }), cls) });
  }

  // --- legitimate: a campus NAT, many students behind one address within the hour.
  {
    const [asn, country] = t.pick(UNIVERSITY.filter(([a, c]) => net.has(a, c)));
    const natIp = net.draw(t, asn, country);
    for (let i = 0; i < size("nat"); i++) {
      const u = user();
      u.country = country;
      u.lang = language(t, country);
      u.ip = natIp;
      actors.push({ group: "legit", steps: withRetries(reset(u, { cls: "shared NAT (campus)", group: "legit", delay: t.int(0, 20_000) }), "shared NAT (campus)") });
    }
  }

  // --- legitimate: returning users with verified history (setup), resetting again.
  const historyUsers = [];
  for (let i = 0; i < size("historyUsers") + size("takeover") + 1; i++) historyUsers.push(user());
  const returning = historyUsers.slice(0, size("historyUsers"));
  const victims = historyUsers.slice(size("historyUsers"), size("historyUsers") + size("takeover"));
  const owner = historyUsers[historyUsers.length - 1];
  const setup = (u) => [
    { ...reset(u), cls: "history (setup)", group: "setup" },
    { kind: "outcome", events: ["verified", "completed"], of: -1 },
  ];
  for (const u of returning) {
    const r = t.random();
    let step;
    if (r < 0.7) {
      // Same browser, home network; a dynamic IP may have changed since.
      const ip = t.chance(0.5) ? u.ip : homeIp(u.country);
      step = reset(u, { ip, cls: "returning (history)", group: "legit" });
    } else if (r < 0.85) {
      // Same phone or laptop, on mobile data or a café's network: new network, known device.
      step = reset(u, { ip: net.draw(t, mobileNetwork(u.country), u.country), cls: "returning (history)", group: "legit", tags: ["new-network"] });
    } else {
      // A new device (a new phone, the work laptop) at home: no cookie.
      const b = browser(t);
      step = { ...reset({ ...u, browser: b }), jar: `${u.email}#new`, cls: "returning, new device", group: "legit", tags: ["new-device"] };
    }
    actors.push({ group: "legit", setup: setup(u), steps: withRetries({ ...step, delay: t.int(0, 30_000) }, step.cls) });
  }

  // --- attack: scripted enumeration from hosting, HTTP libraries, no cookies.
  const knownEmails = [...returning, ...victims].map((u) => u.email);
  const targets = (n) => Array.from({ length: n }, () => (t.chance(0.3) ? t.pick(knownEmails) : `${t.pick(["j", "m", "a", "s", "d"])}${t.hex(5)}@${t.pick(["gmail.com", "yahoo.com", "outlook.com", domain])}`));
  for (let i = 0; i < size("enum"); i++) {
    const exit = hostingExit(null);
    const ua = t.pick(SCRIPT_UAS);
    const steps = targets(size("enumEach")).map((email) => ({
      kind: "reset", cls: "scripted enumeration", group: "attack", email, ip: exit.ip, jar: null, delay: t.int(50, 400),
      headers: { "user-agent": ua, accept: "*/*", "content-type": "application/json", "accept-encoding": "gzip, deflate" },
    }));
    actors.push({ group: "attack", steps });
  }

  // --- attack: browser-faking bots (headless / stealth) on datacenter and VPN exits.
  const variants = ["headless-ua", "copied-ua-no-hints", "hints-platform-mismatch", "stealth-consistent"];
  for (let i = 0; i < size("fakeBots"); i++) {
    const variant = variants[i % variants.length];
    const ips = Array.from({ length: t.int(2, 5) }, () => hostingExit(null).ip);
    const steps = targets(size("fakeEach")).map((email) => {
      const b = browser(t, "chrome-windows");
      let headers = browserHeaders(b, "en-US,en;q=0.9");
      if (variant === "headless-ua") headers = { ...headers, "user-agent": b.ua.replace("Chrome/", "HeadlessChrome/"), "sec-ch-ua": headers["sec-ch-ua"].replace("Google Chrome", "HeadlessChrome") };
      if (variant === "copied-ua-no-hints") {
        headers = { ...headers };
        delete headers["sec-ch-ua"];
        delete headers["sec-ch-ua-mobile"];
        delete headers["sec-ch-ua-platform"];
      }
      if (variant === "hints-platform-mismatch") headers = { ...headers, "sec-ch-ua-platform": '"Linux"' };
      return { kind: "reset", cls: "browser-faking bots", group: "attack", tags: [variant], email, ip: t.pick(ips), jar: variant === "stealth-consistent" ? null : `bot${i}`, delay: t.int(200, 1500), headers };
    });
    actors.push({ group: "attack", steps });
  }

  // --- attack: residential botnet, 1-2 requests per infected home machine.
  for (let i = 0; i < size("botnet"); i++) {
    const country = t.weighted({ US: 35, GB: 10, DE: 10, FR: 8, BR: 12, IN: 12, IT: 5, ES: 5, NL: 3 });
    const bot = { email: "", country, browser: browser(t), lang: language(t, country), ip: homeIp(country), form: false };
    const steps = targets(t.chance(0.3) ? 2 : 1).map((email) => ({ ...reset({ ...bot, email }), cls: "residential botnet", group: "attack", jar: `botnet${i}`, delay: t.int(0, 40_000) }));
    actors.push({ group: "attack", steps });
  }

  // --- attack: targeted takeover of accounts with history, from VPN/hosting abroad (a
  // quarter from an exit in the victim's own country), on the attacker's own browser.
  for (const v of victims) {
    const inCountry = t.chance(0.25);
    const exit = inCountry && HOSTING.some(([asn, cs]) => cs.includes(v.country) && net.has(asn, v.country))
      ? (() => { const [asn] = t.pick(HOSTING.filter(([a, cs]) => cs.includes(v.country) && net.has(a, v.country))); return { ip: net.draw(t, asn, v.country), country: v.country }; })()
      : hostingExit(v.country);
    const attacker = { ...v, browser: browser(t, t.pick(["chrome-windows", "chrome-mac", "safari-mac"])), lang: language(t, v.country), ip: exit.ip, form: false };
    const steps = Array.from({ length: t.int(1, 3) }, () => ({ ...reset(attacker), jar: `ato-${v.email}`, cls: exit.country === v.country ? "takeover (in-country VPN)" : "takeover (VPN abroad)", group: "attack", delay: t.int(1000, 8000) }));
    actors.push({ group: "attack", setup: setup(v), steps: [{ ...steps[0], delay: t.int(5_000, 40_000) }, ...steps.slice(1)] });
  }

  // --- attack then owner: a flood of resets on one account (from rotating residential
  // proxies and VPN exits), then its owner on the known device, then on a new phone.
  {
    const floodSteps = [];
    for (let i = 0; i < size("flood"); i++) {
      const exit = t.chance(0.6) ? { ip: homeIp(t.weighted({ US: 50, GB: 20, DE: 15, BR: 15 })) } : hostingExit(null);
      const b = browser(t);
      floodSteps.push({ kind: "reset", cls: "flood on one account", group: "attack", email: owner.email, ip: exit.ip, jar: null, delay: t.int(100, 800), headers: browserHeaders(b, "en-US,en;q=0.9") });
    }
    const ownerKnown = { ...reset(owner), cls: "flooded owner", group: "owner", role: "owner-known-device", delay: 500 };
    const phone = browser(t, owner.browser.mobile ? "chrome-windows" : "safari-iphone");
    const ownerPhone = { ...reset({ ...owner, browser: phone, ip: net.draw(t, mobileNetwork(owner.country), owner.country) }), jar: `${owner.email}#phone`, cls: "flooded owner", group: "owner", role: "owner-new-device", delay: 1000 };
    actors.push({ group: "attack", setup: setup(owner), steps: [...floodSteps, ownerKnown, ownerPhone], first: true });
  }

  // --- attack: SMS pumping, attacker-made accounts, requests geolocated in expensive
  // SMS countries (residential proxies, VPN exits) and in countries outside the list.
  const pumpCountries = [["NL", 30], ["AT", 20], ["BE", 20], ["NG", 15], ["ID", 15]];
  for (let i = 0; i < size("pump"); i++) {
    const steps = [];
    for (let j = 0; j < size("pumpEach"); j++) {
      const viaVpn = t.chance(0.3) && net.has(9009, "NL");
      const country = viaVpn ? "NL" : t.weighted(pumpCountries);
      const ip = viaVpn ? net.draw(t, t.pick([9009, 60068].filter((a) => net.has(a, "NL"))), "NL") : homeIp(country);
      const b = browser(t, t.pick(["chrome-android", "chrome-windows", "safari-iphone"]));
      steps.push({ kind: "reset", cls: "SMS pumping", group: "attack", email: `pump${i}x${j}.${t.hex(4)}@${t.pick(["mail.ru", "proton.me", "gmail.com"])}`, ip, jar: null, delay: t.int(100, 1200), headers: browserHeaders(b, language(t, country)) });
    }
    actors.push({ group: "attack", steps });
  }

  // --- legitimate: VPN users, iCloud Private Relay, travellers. Drawn from their own PRNG
  // stream after every other class, so the classes above play exactly as before.
  {
    const u2 = tools(rng(seed * 1000 + 7));
    // A consumer VPN app's exit: in the user's own country when the network has one there
    // (apps pick the nearest server), else, or 30 % of the time (streaming, privacy
    // defaults), in the US, GB or NL. Exits are shared: about half the time a VPN user lands
    // on an exit another VPN user of this seed already used.
    const vpnShared = new Map();
    const vpnExit = (home) => {
      const asn = u2.weighted(CONSUMER_VPN.filter(([a]) => net.has(a, home) || ["US", "GB", "NL"].some((c) => net.has(a, c))));
      const abroad = !net.has(asn, home) || u2.chance(0.3);
      const country = abroad ? u2.pick(["US", "GB", "NL"].filter((c) => c !== home && net.has(asn, c))) : home;
      const key = `${asn}:${country}`;
      const shared = vpnShared.get(key) ?? [];
      if (shared.length > 0 && u2.chance(0.5)) return { ip: u2.pick(shared), country };
      const ip = net.draw(u2, asn, country);
      vpnShared.set(key, [...shared, ip]);
      return { ip, country };
    };
    // Where a traveller's request comes from: hotel or café Wi-Fi (an ISP of the destination,
    // 60 %), a local SIM or travel eSIM (a mobile network there, 25 %), or their own VPN app,
    // which travellers mostly point home (15 %). Roaming on the home SIM is routed home and
    // looks like mobile data at home: the "returning (history)" class already has that.
    const travelNetwork = (home) => {
      const dest = u2.weighted(Object.fromEntries(Object.entries(TRAVEL_DESTINATIONS).filter(([c]) => c !== home)));
      const r = u2.random();
      if (r < 0.6) return { ip: homeIp(dest, u2), via: "hotel Wi-Fi" };
      if (r < 0.85) return { ip: net.draw(u2, mobileNetwork(dest, u2), dest), via: "local mobile" };
      return { ip: vpnExit(home).ip, via: "VPN" };
    };
    const legit = (step, cls) => ({ group: "legit", steps: withRetriesFrom(u2, { ...step, cls, group: "legit" }, cls) });

    // First-time users with a VPN app on.
    for (let i = 0; i < size("vpnNew"); i++) {
      const u = user(u2);
      actors.push(legit(reset({ ...u, ip: vpnExit(u.country).ip }), "first-time (consumer VPN)"));
    }
    // First-time Safari users behind iCloud Private Relay (a share of the Safari first-timers
    // the first-time class would have had; added, not taken from it).
    const safariUsers = actors.filter((a) => a.group === "legit" && a.steps[0].cls === "first-time" && /Version\/[\d.]+ (Mobile\/\S+ )?Safari/.test(a.steps[0].headers["user-agent"])).length;
    for (let i = 0; i < Math.round(safariUsers * PRIVATE_RELAY_SHARE); i++) {
      const u = user(u2);
      u.browser = browser(u2, u2.chance(0.8) ? "safari-iphone" : "safari-mac");
      const relays = PRIVATE_RELAY.filter(([a]) => net.has(a, u.country));
      if (relays.length === 0) continue;
      u.ip = net.draw(u2, u2.weighted(relays), u.country);
      actors.push(legit(reset(u), "first-time (iCloud Private Relay)"));
    }
    // First-time users abroad (no history, so no geo rule can fire; their home language).
    for (let i = 0; i < size("travelNew"); i++) {
      const u = user(u2);
      const away = travelNetwork(u.country);
      actors.push(legit(reset({ ...u, ip: away.ip }, { tags: [away.via] }), "first-time, travelling"));
    }
    // Returning users (verified history at home) now on a VPN: their known browser, or 30 %
    // a new one (a work laptop with the company VPN, a new phone).
    for (let i = 0; i < size("vpnReturning"); i++) {
      const u = user(u2);
      const exit = vpnExit(u.country);
      const newDevice = u2.chance(0.3);
      const step = newDevice
        ? { ...reset({ ...u, browser: browser(u2), ip: exit.ip }), jar: `${u.email}#new`, tags: ["new-device"] }
        : reset({ ...u, ip: exit.ip });
      actors.push({ ...legit({ ...step, delay: u2.int(0, 30_000) }, newDevice ? "returning, new device, consumer VPN" : "returning (history), consumer VPN"), setup: setup(u) });
    }
    // Returning users travelling: known device abroad (80 %), or a new device there (a phone
    // lost or replaced on the trip). Their history is seconds old in the compressed hour:
    // see EVALUATION.md, Known artefacts.
    for (let i = 0; i < size("travelReturning"); i++) {
      const u = user(u2);
      const away = travelNetwork(u.country);
      const newDevice = u2.chance(0.2);
      const step = newDevice
        ? { ...reset({ ...u, browser: browser(u2), ip: away.ip }), jar: `${u.email}#new`, tags: ["new-device", away.via] }
        : reset({ ...u, ip: away.ip }, { tags: [away.via] });
      actors.push({ ...legit({ ...step, delay: u2.int(0, 30_000) }, newDevice ? "returning, new device, travelling" : "returning (history), travelling"), setup: setup(u) });
    }
  }

  // Shuffle who starts when; the flood actor starts first so its owner's turn follows it.
  const rest = t.shuffle(actors.filter((a) => !a.first));
  return { seed, actors: [...actors.filter((a) => a.first), ...rest] };
}

export { BROWSERS };
