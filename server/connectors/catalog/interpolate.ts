/**
 * `{{config.x}}` interpolation for catalog templates (base URLs, paths, bodies, host patterns).
 * Values come from the connection's non-secret config, falling back to the entry's declared
 * defaults; `{{page.limit}}` is the driver's page size. Secrets are never interpolated.
 */
import type { CatalogEntry } from "./schema";

export type TemplateVars = { config: Record<string, unknown>; page?: { limit?: number }; resource?: { id?: string } };

export class MissingVariableError extends Error {
  constructor(readonly variable: string) {
    super(`configuration value ${variable} is required by this connector`);
  }
}

/** Config merged with the entry's defaults (config wins). */
export function effectiveConfig(entry: CatalogEntry, config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of entry.configFields) if (f.default !== undefined) out[f.name] = f.default;
  for (const [k, v] of Object.entries(config)) if (v !== undefined && v !== null && v !== "") out[k] = v;
  // variables an enum value implies (catalog data) win over anything the config says
  for (const f of entry.configFields) {
    const implied = f.implies?.[String(out[f.name])];
    if (implied) Object.assign(out, implied);
  }
  return out;
}

/** Replaces every placeholder; throws MissingVariableError for an unset one. `encode` escapes values for URL paths. */
export function interpolate(template: string, vars: TemplateVars, encode?: (v: string) => string): string {
  return template.replace(/\{\{\s*([a-z_]+)\.([A-Za-z0-9_]+)\s*\}\}/g, (_m, ns: string, name: string) => {
    const source = ns === "config" ? vars.config : ns === "page" ? (vars.page as Record<string, unknown> | undefined) : ns === "resource" ? (vars.resource as Record<string, unknown> | undefined) : undefined;
    const v = source?.[name];
    if (v === undefined || v === null || v === "") throw new MissingVariableError(`${ns}.${name}`);
    const s = String(v);
    return encode ? encode(s) : s;
  });
}

/** Interpolates every string inside a JSON value (request bodies). */
export function interpolateDeep(value: unknown, vars: TemplateVars): unknown {
  if (typeof value === "string") return interpolate(value, vars);
  if (Array.isArray(value)) return value.map((v) => interpolateDeep(v, vars));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateDeep(v, vars)]));
  }
  return value;
}
