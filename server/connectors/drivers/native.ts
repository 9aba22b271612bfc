/** Native drivers (SQL, files, object storage, Mongo), keyed by the driver name the catalog uses. */
import type { SourceAdapter } from "../types";

export const nativeDrivers: Record<string, SourceAdapter> = {};
