/**
 * The static registry (STYLE.md rule 7): every driver reachable from one map, no dynamic imports.
 * A catalog entry names its driver; `getAdapter` returns the adapter for a source type.
 */
import { httpDrivers } from "./drivers/http";
import { nativeDrivers } from "./drivers/native";
import type { SourceAdapter } from "./types";

export const DRIVERS: Readonly<Record<string, SourceAdapter>> = { ...nativeDrivers, ...httpDrivers };

export function getDriver(name: string): SourceAdapter | undefined {
  return Object.hasOwn(DRIVERS, name) ? DRIVERS[name] : undefined;
}
