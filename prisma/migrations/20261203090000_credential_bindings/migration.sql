-- Where a tenant's own secret (env:, vault:, sp:) may be sent: a secret is bound to the source
-- type and the destination (the vendor host its config fills in, or the configured host / URL)
-- it was first used for, or that an admin allowed. An intent naming the same locator with another
-- instance (`config.instance: evil` of the same vendor) or another source type is refused before
-- the secret is read (server/credentials/secret-binding.ts).
CREATE TABLE "credential_bindings" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "tenant_id" UUID NOT NULL,
    "locator" TEXT NOT NULL,
    "source_type" TEXT NOT NULL,
    "destination" TEXT NOT NULL,
    "origin" TEXT NOT NULL,
    "connection_id" UUID,
    "created_by_id" UUID,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "credential_bindings_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "credential_bindings_key" ON "credential_bindings"("tenant_id", "locator", "source_type", "destination");

ALTER TABLE "credential_bindings" ADD CONSTRAINT "credential_bindings_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;
