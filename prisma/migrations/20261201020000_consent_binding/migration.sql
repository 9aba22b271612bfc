-- The connections listed on the consent screen the admin approved: a grant resumes exactly these.
ALTER TABLE "consent_requests" ADD COLUMN "connection_ids" UUID[] DEFAULT ARRAY[]::UUID[];
