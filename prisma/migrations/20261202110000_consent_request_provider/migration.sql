-- A consent request remembers which authorization server, token endpoint and client it was
-- started for (a digest of them): completion refuses when the connection's config now resolves
-- to others — a re-post of the intent between "Continue" and the callback must not move the
-- code, the PKCE verifier and the client secret to another token endpoint.
ALTER TABLE "consent_requests" ADD COLUMN "provider_fingerprint" TEXT NOT NULL DEFAULT '';
