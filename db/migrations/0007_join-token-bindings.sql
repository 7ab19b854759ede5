ALTER TABLE "join_tokens" ADD COLUMN "node_name" text;--> statement-breakpoint
ALTER TABLE "join_tokens" ADD COLUMN "labels" jsonb;