-- An organisation may have its admins approve every secret's first destination: with it on, a
-- secret bound nowhere is not bound by its first use, and the connection waits (NETWORK_BLOCKED)
-- for an admin's "Allow this secret here" (server/onboarding/secret-binding.ts).
ALTER TABLE "tenants" ADD COLUMN "secret_binding_approval" BOOLEAN NOT NULL DEFAULT false;
