CREATE TABLE "namespace_policies" (
	"id" uuid PRIMARY KEY NOT NULL,
	"namespace" text NOT NULL,
	"name" text NOT NULL,
	"labels" jsonb NOT NULL,
	"annotations" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"spec" jsonb NOT NULL,
	"generation" integer NOT NULL,
	"resource_version" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "replicas" ADD COLUMN "default_memory_limit_bytes" bigint;--> statement-breakpoint
CREATE UNIQUE INDEX "namespace_policies_namespace" ON "namespace_policies" USING btree ("namespace");