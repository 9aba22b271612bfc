/**
 * `npm run rekey`: after a key rotation (new ENCRYPTION_KEY, the old one in
 * ENCRYPTION_KEY_PREVIOUS), re-encrypts every stored secret with the new key. Safe to run while
 * the app runs and to run again; exits 1 while some record cannot be read with any listed key.
 */
import { encryptionKeyFromEnv } from "../server/credentials/crypto";
import { countStaleSecrets, reencryptStoredSecrets } from "../server/credentials/rekey";
import { openCli, runCli } from "./lib/cli";

runCli(async () => {
  const cli = await openCli({ requireTenant: false });
  try {
    const key = encryptionKeyFromEnv();
    if (!key) throw new Error("No ENCRYPTION_KEY is configured, so there is nothing to re-encrypt with.");
    const r = await reencryptStoredSecrets(cli.db, key);
    const left = await countStaleSecrets(cli.db, key);
    console.log(`[rekey] re-encrypted ${r.credentials.reencrypted} credential(s), ${r.consentRequests.reencrypted} pending consent request(s) and ${r.oauthApps.reencrypted} OAuth app secret(s) with key ${key.id}.`);
    if (left) {
      console.error(`[rekey] ${left} record(s) are under a key that is neither ENCRYPTION_KEY nor listed in ENCRYPTION_KEY_PREVIOUS; add that key to ENCRYPTION_KEY_PREVIOUS and run again (or consent again for those connections, and enter those OAuth apps' secrets again).`);
      return 1;
    }
    console.log("[rekey] every stored secret is under the current key; ENCRYPTION_KEY_PREVIOUS can be removed.");
    return 0;
  } finally {
    await cli.close();
  }
});
