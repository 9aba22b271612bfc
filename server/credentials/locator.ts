/**
 * The credential locator grammar (DESIGN.md "Credentials"):
 *   vault:<path>[#<key>]   path relative to the KV v2 mount VAULT_KV_MOUNT (default `secret`)
 *   env:<VAR>              an environment variable of this process
 *   consent:<provider>     tokens saved by the browser admin-consent flow
 *   sp:<name>              a service principal (OAuth client credentials)
 * A locator names where a secret lives; it is never a secret itself, so it may appear in
 * messages. Parsing is strict because AOD supplies locators and they end up in URLs.
 */
import { z } from "zod";
import { err, ok, type Result } from "../lib/result";
import { isOwnSecretEnvVar } from "../env";
import type { Locator } from "./types";

export const MAX_LOCATOR_LENGTH = 512;

// Segments exclude `.`/`..` so a path can never climb out of the mount once put in a URL.
const VAULT_SEGMENT = /^[A-Za-z0-9_@+=,-][A-Za-z0-9_.@+=,-]*$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

const VaultBody = z
  .string()
  .min(1, "vault: needs a path, e.g. vault:apps/postgres#password")
  .transform((body, ctx) => {
    const hash = body.indexOf("#");
    const path = hash === -1 ? body : body.slice(0, hash);
    const key = hash === -1 ? undefined : body.slice(hash + 1);
    if (path === "") {
      ctx.addIssue({ code: "custom", message: "vault: path is empty (expected vault:<path>[#<key>])" });
      return z.NEVER;
    }
    if (path.startsWith("/") || path.endsWith("/") || path.includes("//")) {
      ctx.addIssue({ code: "custom", message: `vault: path must not start or end with "/" or contain "//" (paths are relative to the KV mount)` });
      return z.NEVER;
    }
    const bad = path.split("/").find((s) => !VAULT_SEGMENT.test(s) || s === "." || s === "..");
    if (bad !== undefined) {
      ctx.addIssue({ code: "custom", message: `vault: path segment "${bad}" is not allowed (letters, digits and _ . @ + = , - only; no "." or "..")` });
      return z.NEVER;
    }
    if (key !== undefined && (key === "" || key.includes("#") || /\s/.test(key))) {
      ctx.addIssue({ code: "custom", message: "vault: key after # must be a non-empty field name without spaces or another #" });
      return z.NEVER;
    }
    return key === undefined ? { scheme: "vault" as const, path } : { scheme: "vault" as const, path, key };
  });

const EnvBody = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]{0,127}$/, "env: needs an environment variable name of upper-case letters, digits and _ (e.g. env:PG_PASSWORD)")
  .refine((name) => !isOwnSecretEnvVar(name), { message: "env: this variable holds the app's own secret and cannot be used as a source credential" })
  .transform((name) => ({ scheme: "env" as const, name }));

const nameBody = (scheme: "consent" | "sp", what: string) =>
  z.string().regex(NAME, `${scheme}: needs a ${what} name of letters, digits, _ . - (at most 128 chars, e.g. ${scheme}:${scheme === "sp" ? "reporting" : "google"})`);

const ConsentBody = nameBody("consent", "provider").transform((provider) => ({ scheme: "consent" as const, provider }));
const SpBody = nameBody("sp", "service principal").transform((name) => ({ scheme: "sp" as const, name }));

const BODIES = { vault: VaultBody, env: EnvBody, consent: ConsentBody, sp: SpBody } as const;
type Scheme = keyof typeof BODIES;

export const LocatorSchema = z
  .string()
  .max(MAX_LOCATOR_LENGTH, `credential locator is longer than ${MAX_LOCATOR_LENGTH} characters`)
  // eslint-disable-next-line no-control-regex
  .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), { message: "credential locator contains control characters" })
  .transform((raw, ctx): Locator => {
    const s = raw.trim();
    const colon = s.indexOf(":");
    if (s === "" || colon <= 0) {
      ctx.addIssue({ code: "custom", message: "credential locator must look like <scheme>:<value> with scheme vault, env, consent or sp" });
      return z.NEVER;
    }
    const scheme = s.slice(0, colon).toLowerCase();
    if (!(scheme in BODIES)) {
      ctx.addIssue({ code: "custom", message: `unknown credential locator scheme "${scheme.slice(0, 32)}" (expected vault:, env:, consent: or sp:)` });
      return z.NEVER;
    }
    const body = BODIES[scheme as Scheme].safeParse(s.slice(colon + 1));
    if (!body.success) {
      for (const issue of body.error.issues) ctx.addIssue({ code: "custom", message: issue.message });
      return z.NEVER;
    }
    return body.data;
  });

export function parseLocator(raw: string): Result<Locator, string> {
  const r = LocatorSchema.safeParse(raw);
  return r.success ? ok(r.data) : err(r.error.issues.map((i) => i.message).join("; "));
}

/** The canonical string for a locator: what is stored in the credentials table and bound into AAD. */
export function formatLocator(l: Locator): string {
  switch (l.scheme) {
    case "vault":
      return l.key === undefined ? `vault:${l.path}` : `vault:${l.path}#${l.key}`;
    case "env":
      return `env:${l.name}`;
    case "consent":
      return `consent:${l.provider}`;
    case "sp":
      return `sp:${l.name}`;
  }
}

/** `consent:<provider>` in any spelling the parser accepts (`CONSENT:google`, ` consent:google`). */
export function isConsentLocator(raw: string): boolean {
  const p = parseLocator(raw);
  return p.ok && p.value.scheme === "consent";
}
