// node tools/turnstile-standin/main.mjs: the local Turnstile stand-in on its own, for
// trying the challenge page by hand. `npm start` starts it for you.
//
//   TURNSTILE_STANDIN_PORT=8789 (default)   --log   print every siteverify call
import { startTurnstileStandin } from "./server.mjs";

const port = Number(process.env.TURNSTILE_STANDIN_PORT ?? "8789");
const log = process.argv.includes("--log") ? (line) => console.log(`[turnstile-standin] ${line}`) : undefined;
const standin = await startTurnstileStandin({ port, log });
console.log(`Turnstile stand-in on ${standin.url}
  SITEVERIFY_URL=${standin.siteverifyUrl}
  CAPTCHA_SCRIPT_URL=${standin.scriptUrl}
Dummy keys: site 1x00000000000000000000AA (passes), 3x00000000000000000000FF (click); secret 1x0000000000000000000000000000000AA`);
const stop = () => standin.close().then(() => process.exit(0));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
