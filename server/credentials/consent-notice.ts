/** Words for the outcome of an admin consent; pure, so client components can use it too. */
export const CONSENT_NOTICE_CODES = ["granted", "denied", "expired", "tampered", "other_tenant", "other_user", "replayed", "provider_error", "exchange_failed", "unavailable"] as const;
export type ConsentNoticeCode = (typeof CONSENT_NOTICE_CODES)[number];

/**
 * What a page says after the callback. The callback passes only a code in the URL (never free
 * text, so a crafted link cannot put words on our pages); the details are in the connection's
 * status reason and timeline.
 */
export function consentNotice(code: string | null | undefined): { tone: "ok" | "warn" | "error"; text: string } | null {
  switch (code) {
    case "granted":
      return { tone: "ok", text: "Consent given. The tokens are stored encrypted and onboarding has resumed; this page updates as it runs." };
    case "denied":
      return { tone: "warn", text: "Consent was denied at the provider, so nothing was granted. The connection keeps waiting for an admin's consent." };
    case "expired":
      return { tone: "warn", text: "That consent link expired (links last 10 minutes). Nothing was granted; start again." };
    case "replayed":
      return { tone: "warn", text: "That consent link was already used. If the connection still waits for consent, start again." };
    case "tampered":
      return { tone: "error", text: "That consent link is not valid: it was changed or was never issued here. Nothing was granted; start again from the connection's consent page." };
    case "other_tenant":
      return { tone: "error", text: "That consent link was not issued for your organisation. Nothing was granted." };
    case "other_user":
      return { tone: "error", text: "That consent was started by another admin, and only they can finish it. Nothing was granted and nothing resumed; start your own from the connection's consent page." };
    case "provider_error":
      return { tone: "error", text: "The provider refused the consent request. The connection's status below says why." };
    case "exchange_failed":
      return { tone: "error", text: "The provider did not issue tokens. The connection's status below says why; start again when it is fixed." };
    case "unavailable":
      return { tone: "error", text: "Consent cannot be finished on this server right now. The connection's status below says why." };
    default:
      return null;
  }
}
