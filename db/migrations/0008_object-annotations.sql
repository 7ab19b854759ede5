ALTER TABLE "secrets" ADD COLUMN "annotations" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "services" ADD COLUMN "annotations" jsonb DEFAULT '{}'::jsonb NOT NULL;