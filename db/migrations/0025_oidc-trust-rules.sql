CREATE TABLE "trust_rules" (
	"id" uuid PRIMARY KEY NOT NULL,
	"namespace" text DEFAULT '' NOT NULL,
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
ALTER TABLE "tokens" ADD COLUMN "exchange" jsonb;--> statement-breakpoint
CREATE UNIQUE INDEX "trust_rules_name" ON "trust_rules" USING btree ("namespace","name");