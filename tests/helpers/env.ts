/**
 * The process environment, for tests that set variables the code under test reads through
 * server/env.ts (e.g. `env:` credential locators, VAULT_*, SP_*). Application code never uses this.
 */
export const testEnv: NodeJS.ProcessEnv = process.env;
