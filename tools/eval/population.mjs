// Who sends password resets, for the labelled evaluation: browsers by share, languages by
// country, and the networks (AS numbers) real users and attackers come from. Pure data
// and functions of a PRNG (tools/eval/core.mjs); the addresses themselves come from the
// geo data the gateway bundles (tools/eval/networks.mjs).

/**
 * Browsers by share of page views, roughly StatCounter's 2025 worldwide/US-EU blend
 * (mobile ~55 %, desktop ~45 %; Chrome ~2/3 across platforms, Safari ~1/5, Edge, Samsung
 * Internet, Firefox, Opera). Weights are percentages. `v` is the Chromium major.
 */
export const BROWSERS = [
  ["chrome-windows", 20],
  ["edge-windows", 6],
  ["chrome-mac", 5],
  ["safari-mac", 6], // includes iPadOS, which presents as desktop Safari
  ["firefox-windows", 3],
  ["firefox-mac", 0.7],
  ["firefox-linux", 0.8],
  ["chrome-linux", 1],
  ["chrome-chromeos", 0.8],
  ["opera-windows", 1],
  ["safari-iphone", 22],
  ["chrome-iphone", 2.5],
  ["chrome-android", 21],
  ["samsung-android", 4],
  ["webview-android", 1.7], // in-app browsers (mail and social apps)
  ["firefox-android", 0.5],
];

/** Chromium majors in use (the current release and a tail of older ones). */
const CHROMIUM_MAJORS = [
  [141, 10],
  [140, 45],
  [139, 25],
  [138, 10],
  [136, 5],
  [131, 5],
];

const GREASE = ['"Not)A;Brand";v="8"', '"Not_A Brand";v="24"', '"Not/A)Brand";v="99"', '"Not;A=Brand";v="99"'];

/** A browser's fingerprint-relevant headers: UA, client hints (Chromium only), mobile flag. */
export function browser(t, kind = t.weighted(BROWSERS)) {
  const v = t.weighted(CHROMIUM_MAJORS);
  const grease = GREASE[v % GREASE.length];
  const ios = t.pick(["18_5", "18_6", "26_0", "26_1", "17_7"]);
  const iosVersion = ios.startsWith("17") ? "17.7" : ios.startsWith("18") ? ios.replace("_", ".") : ios.replace("_", ".");
  const ch = (brand, brandV, platform, mobile) => ({
    "sec-ch-ua": `${brand ? `"${brand}";v="${brandV}", ` : ""}"Chromium";v="${v}", ${grease}`,
    "sec-ch-ua-mobile": mobile ? "?1" : "?0",
    "sec-ch-ua-platform": `"${platform}"`,
  });
  const win = `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${v}.0.0.0 Safari/537.36`;
  const mac = `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${v}.0.0.0 Safari/537.36`;
  const android = `Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${v}.0.0.0 Mobile Safari/537.36`;
  const ff = 140 + t.int(0, 3);
  switch (kind) {
    case "chrome-windows":
      return { kind, mobile: false, ua: win, hints: ch("Google Chrome", v, "Windows", false) };
    case "edge-windows":
      return { kind, mobile: false, ua: `${win} Edg/${v}.0.0.0`, hints: ch("Microsoft Edge", v, "Windows", false) };
    case "opera-windows":
      return { kind, mobile: false, ua: `${win} OPR/${v - 15}.0.0.0`, hints: ch("Opera", v - 15, "Windows", false) };
    case "chrome-mac":
      return { kind, mobile: false, ua: mac, hints: ch("Google Chrome", v, "macOS", false) };
    case "chrome-linux":
      return { kind, mobile: false, ua: `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${v}.0.0.0 Safari/537.36`, hints: ch("Google Chrome", v, "Linux", false) };
    case "chrome-chromeos":
      return { kind, mobile: false, ua: `Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${v}.0.0.0 Safari/537.36`, hints: ch("Google Chrome", v, "Chrome OS", false) };
    case "chrome-android":
      return { kind, mobile: true, ua: android, hints: ch("Google Chrome", v, "Android", true) };
    case "samsung-android": {
      // Samsung Internet 28 runs Chromium 130 and brands itself in the hints.
      const ua = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/28.0 Chrome/130.0.0.0 Mobile Safari/537.36";
      return { kind, mobile: true, ua, hints: { "sec-ch-ua": '"Samsung Internet";v="28.0", "Chromium";v="130", "Not?A_Brand";v="24"', "sec-ch-ua-mobile": "?1", "sec-ch-ua-platform": '"Android"' } };
    }
    case "webview-android": {
      const ua = `Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP2A.240805.005; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/${v}.0.0.0 Mobile Safari/537.36`;
      return { kind, mobile: true, ua, hints: ch("Android WebView", v, "Android", true) };
    }
    case "safari-mac":
      return { kind, mobile: false, ua: `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${iosVersion} Safari/605.1.15`, hints: {} };
    case "safari-iphone":
      return { kind, mobile: true, ua: `Mozilla/5.0 (iPhone; CPU iPhone OS ${ios} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${iosVersion} Mobile/15E148 Safari/604.1`, hints: {} };
    case "chrome-iphone":
      return { kind, mobile: true, ua: `Mozilla/5.0 (iPhone; CPU iPhone OS ${ios} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/${v}.0.7339.122 Mobile/15E148 Safari/604.1`, hints: {} };
    case "firefox-windows":
      return { kind, mobile: false, ua: `Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:${ff}.0) Gecko/20100101 Firefox/${ff}.0`, hints: {} };
    case "firefox-mac":
      return { kind, mobile: false, ua: `Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:${ff}.0) Gecko/20100101 Firefox/${ff}.0`, hints: {} };
    case "firefox-linux":
      return { kind, mobile: false, ua: `Mozilla/5.0 (X11; Linux x86_64; rv:${ff}.0) Gecko/20100101 Firefox/${ff}.0`, hints: {} };
    case "firefox-android":
      return { kind, mobile: true, ua: `Mozilla/5.0 (Android 14; Mobile; rv:${ff}.0) Gecko/${ff}.0 Firefox/${ff}.0`, hints: {} };
    default:
      throw new Error(`unknown browser ${kind}`);
  }
}

/** Accept-Language by country; a second entry is a minority variant. */
export const LANGUAGES = {
  US: ["en-US,en;q=0.9", "en-US,en;q=0.9,es;q=0.8"],
  GB: ["en-GB,en;q=0.9", "en-GB,en-US;q=0.9,en;q=0.8"],
  DE: ["de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7", "de,en-US;q=0.7,en;q=0.3"],
  FR: ["fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7", "fr,fr-FR;q=0.8,en-US;q=0.5,en;q=0.3"],
  CA: ["en-CA,en;q=0.9", "fr-CA,fr;q=0.9,en-CA;q=0.8,en;q=0.7"],
  AU: ["en-AU,en;q=0.9", "en-GB,en;q=0.9"],
  ES: ["es-ES,es;q=0.9", "es-ES,es;q=0.9,en;q=0.8"],
  IT: ["it-IT,it;q=0.9,en-US;q=0.8,en;q=0.7", "it-IT,it;q=0.9"],
  NL: ["nl-NL,nl;q=0.9,en-US;q=0.8,en;q=0.7", "nl,en-US;q=0.7,en;q=0.3"],
  JP: ["ja,en-US;q=0.9,en;q=0.8", "ja-JP,ja;q=0.9"],
  BR: ["pt-BR,pt;q=0.9,en-US;q=0.8,en;q=0.7", "pt-BR,pt;q=0.9"],
  IN: ["en-IN,en-GB;q=0.9,en-US;q=0.8,en;q=0.7", "en-US,en;q=0.9,hi;q=0.8"],
  RO: ["ro-RO,ro;q=0.9,en-US;q=0.8,en;q=0.7", "en-US,en;q=0.9"],
  NG: ["en-US,en;q=0.9", "en-NG,en;q=0.9"],
  ID: ["id-ID,id;q=0.9,en-US;q=0.8,en;q=0.7", "en-US,en;q=0.9"],
  AT: ["de-AT,de;q=0.9,en-US;q=0.8,en;q=0.7", "de,en;q=0.5"],
  BE: ["nl-BE,nl;q=0.9,fr;q=0.8,en;q=0.7", "fr-BE,fr;q=0.9,en;q=0.7"],
};

export const language = (t, country) => {
  const [main, other] = LANGUAGES[country] ?? LANGUAGES.US;
  return t.chance(0.85) ? main : other;
};

/** Where users live (shares), the business's markets. */
export const HOME_SHARES = { US: 40, GB: 12, DE: 10, FR: 8, CA: 6, AU: 5, ES: 4, IT: 4, NL: 3, JP: 3, BR: 3, IN: 2 };

/** Residential (fixed-line) networks per country: [ASN, weight]. */
export const RESIDENTIAL = {
  US: [[7922, 30], [7018, 20], [20115, 15], [701, 15], [22773, 8], [5650, 5]],
  GB: [[2856, 35], [5089, 25], [5607, 20], [13285, 10]],
  DE: [[3320, 45], [3209, 25], [6805, 15], [8881, 10]],
  FR: [[3215, 40], [12322, 25], [15557, 20], [5410, 15]],
  CA: [[812, 35], [577, 35], [6327, 20]],
  AU: [[1221, 40], [4804, 25], [7545, 25]],
  ES: [[3352, 50], [12479, 25], [12430, 25]],
  IT: [[3269, 50], [30722, 25], [1267, 25]],
  NL: [[1136, 50], [33915, 50]],
  JP: [[4713, 40], [2516, 30], [17676, 30]],
  BR: [[28573, 40], [26599, 30], [18881, 30]],
  IN: [[24560, 50], [55836, 50]],
  AT: [[8447, 60], [8412, 40]],
  BE: [[5432, 60], [6848, 40]],
  NG: [[29465, 60], [36873, 40]],
  ID: [[7713, 60], [23693, 40]],
};

/** Mobile carriers per country (carrier-grade NAT: many subscribers share one address). */
export const MOBILE = {
  US: [[21928, 50], [22394, 25], [20057, 25]],
  GB: [[12576, 50], [25135, 50]],
  DE: [[3320, 60], [3209, 40]],
  FR: [[3215, 50], [51207, 50]],
  CA: [[812, 50], [577, 50]],
  AU: [[1221, 60], [4804, 40]],
  ES: [[3352, 60], [12430, 40]],
  IT: [[30722, 50], [1267, 50]],
  NL: [[1136, 50], [33915, 50]],
  JP: [[2516, 50], [17676, 50]],
  BR: [[26599, 50], [28573, 50]],
  IN: [[55836, 60], [24560, 40]],
};

/** University networks (one campus NAT address shared by many students). */
export const UNIVERSITY = [
  [786, "GB"], // Jisc (JANET)
  [3, "US"], // MIT
  [680, "DE"], // DFN
];

/**
 * Hosting and VPN networks attackers rent, with the countries they have exits in.
 * M247 and Datacamp are the big commercial-VPN carriers; the others are clouds.
 */
export const HOSTING = [
  [9009, ["RO", "GB", "NL", "US", "DE", "FR"], "M247 (VPN exits)"],
  [60068, ["GB", "NL", "US", "DE", "FR"], "Datacamp / CDN77 (VPN exits)"],
  [14061, ["US", "NL", "DE", "GB"], "DigitalOcean"],
  [16276, ["FR", "CA", "DE", "GB"], "OVH"],
  [24940, ["DE", "FI"], "Hetzner"],
  [16509, ["US", "DE", "GB", "IE", "FR"], "AWS"],
];

/**
 * Exit networks of consumer VPN apps (legitimate users who keep a VPN on), by AS name in
 * @ip-location-db/asn and the X4BNet lists rules/lists/ cites: M247 and Datacamp carry the
 * exits of several VPN brands (both also on hosting.txt), PacketHub and Cyberzone are
 * VPN-only networks (vpn.txt). Weights are assumptions, not measured shares.
 */
export const CONSUMER_VPN = [
  [9009, 35, "M247"],
  [60068, 15, "Datacamp (CDN77)"],
  [212238, 10, "Datacamp, second AS"],
  [136787, 25, "PacketHub S.A."],
  [209854, 15, "Cyberzone S.A."],
];

/**
 * iCloud Private Relay egress networks (Safari with iCloud+): Akamai's relay AS, Cloudflare,
 * Fastly. The egress address geolocates to the user's region, so it is drawn in the home
 * country where the data has one. None is on the shipped hosting or VPN lists.
 */
export const PRIVATE_RELAY = [
  [36183, 40, "Akamai (Private Relay)"],
  [13335, 40, "Cloudflare"],
  [54113, 20, "Fastly"],
];

/** Where travellers go (shares; the home country is left out when drawn). */
export const TRAVEL_DESTINATIONS = { US: 20, ES: 15, IT: 15, FR: 15, GB: 10, DE: 5, CA: 5, JP: 5, NL: 5, AU: 3 };

/** Every (ASN, country) the scenarios may draw addresses from. */
export function networkNeeds() {
  const needs = new Map();
  const add = (asn, country) => needs.set(`${asn}:${country}`, { asn, country });
  for (const [country, list] of Object.entries(RESIDENTIAL)) for (const [asn] of list) add(asn, country);
  for (const [country, list] of Object.entries(MOBILE)) for (const [asn] of list) add(asn, country);
  for (const [asn, country] of UNIVERSITY) add(asn, country);
  for (const [asn, countries] of HOSTING) for (const c of countries) add(asn, c);
  for (const c of Object.keys(HOME_SHARES)) {
    for (const [asn] of CONSUMER_VPN) add(asn, c);
    for (const [asn] of PRIVATE_RELAY) add(asn, c);
  }
  return [...needs.values()];
}

/**
 * Request headers for a browser `b` posting the reset form's fetch (JSON) or the
 * plain HTML form (`form`), from `ip`.
 */
export function browserHeaders(b, lang, { form = false } = {}) {
  const h = {
    "user-agent": b.ua,
    "accept-language": lang,
    "accept-encoding": "gzip, deflate, br, zstd",
    ...b.hints,
  };
  if (form) {
    Object.assign(h, {
      accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
      "content-type": "application/x-www-form-urlencoded",
      "sec-fetch-mode": "navigate",
      "sec-fetch-site": "same-origin",
      "sec-fetch-dest": "document",
      "sec-fetch-user": "?1",
    });
  } else {
    Object.assign(h, {
      accept: "application/json, text/plain, */*",
      "content-type": "application/json",
      "sec-fetch-mode": "cors",
      "sec-fetch-site": "same-origin",
      "sec-fetch-dest": "empty",
    });
  }
  return h;
}
