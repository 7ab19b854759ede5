ALTER TABLE "nodes" ADD COLUMN "extended_resources" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "nodes" ADD COLUMN "allocatable_ephemeral_storage_bytes" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "replicas" ADD COLUMN "request_scalars" jsonb;--> statement-breakpoint
CREATE INDEX "replicas_scalars" ON "replicas" USING btree ("node_id") WHERE "replicas"."node_id" is not null and "replicas"."request_scalars" is not null;