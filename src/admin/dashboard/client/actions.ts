/**
 * Operator actions on accounts and penalty boxes (docs/operations.md, "Block an account",
 * "Lift a penalty box"): block or release an account by its address (the gateway HMACs it;
 * the entry appears in the live lists panel as `account:<HMAC>`), and lift the penalty box
 * on an IP, subnet, account or device key. A refused row in the decisions panel hands its
 * key to the lift form. The same admin API as `riskgate accounts` and `riskgate penalty`.
 */
import * as api from "./api.ts";
import { h, panel } from "./dom.ts";

function input(name: string, placeholder: string, required = true): HTMLInputElement {
  return h("input", { name, placeholder, required, "aria-label": name, "data-testid": name });
}

/** The panel, `lift` (prefill the lift form with a key) and a hook run after each change. */
export function actionsPanel(changed: () => Promise<void>): { element: HTMLElement; lift: (key: string) => void } {
  const status = h("p", { class: "muted", role: "status", "data-testid": "action-status" });
  const say = (ok: string, error: string | null) => {
    status.textContent = error === null ? ok : `refused: ${error}`;
  };

  const address = input("account-address", "account address (HMAC'd by the gateway, never stored)");
  const reason = input("account-reason", "reason (kept in the audit trail)");
  const expires = input("account-expires", "expires, e.g. 12h (empty: never)", false);
  const release = h("button", { type: "button", "data-testid": "account-release" }, "release");
  const accountForm = h("form", { class: "list-form", "data-testid": "account-form" }, address, reason, expires, h("button", { type: "submit" }, "block account"), release);
  accountForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const body: Record<string, string> = { account: address.value, list: "block", reason: reason.value };
    if (expires.value.trim() !== "") body.expires = expires.value.trim();
    void api.changeList("POST", body).then(async (error) => {
      say("account blocked", error);
      if (error === null) accountForm.reset();
      await changed();
    });
  });
  release.addEventListener("click", () => {
    void api.changeList("DELETE", { account: address.value, list: "block", reason: reason.value || "released from the dashboard" }).then(async (error) => {
      say("account released", error);
      if (error === null) accountForm.reset();
      await changed();
    });
  });

  const key = input("lift-key", "IP, subnet (/24, /64), account address or device:<key>");
  const liftReason = input("lift-reason", "reason (kept in the audit trail)");
  const liftForm = h("form", { class: "list-form", "data-testid": "lift-form" }, key, liftReason, h("button", { type: "submit" }, "lift penalty box"));
  liftForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void api.liftPenalty({ key: key.value, reason: liftReason.value }).then(async (error) => {
      say(`lifted ${key.value.startsWith("key:") ? "the refused key" : key.value}`, error);
      if (error === null) liftForm.reset();
      await changed();
    });
  });

  const element = panel("panel-actions", "block an account / lift a penalty box", 12, accountForm, liftForm, status);
  return {
    element,
    lift: (k: string) => {
      key.value = k;
      liftReason.focus();
    },
  };
}
