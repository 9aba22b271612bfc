-- AlterTable
ALTER TABLE "tenants" ADD COLUMN     "preview_masking" BOOLEAN NOT NULL DEFAULT true;
