CREATE TABLE "claim_volume_removals" (
	"claim_id" uuid PRIMARY KEY NOT NULL,
	"node_name" text NOT NULL,
	"namespace" text NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "persistent_volume_claims" (
	"id" uuid PRIMARY KEY NOT NULL,
	"namespace" text NOT NULL,
	"name" text NOT NULL,
	"labels" jsonb NOT NULL,
	"annotations" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"access_modes" jsonb NOT NULL,
	"storage" text NOT NULL,
	"storage_class_name" text,
	"volume_mode" text DEFAULT 'Filesystem' NOT NULL,
	"node_name" text,
	"bound_at" timestamp with time zone,
	"deleting_at" timestamp with time zone,
	"resource_version" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "claim_volume_removals_node" ON "claim_volume_removals" USING btree ("node_name");--> statement-breakpoint
CREATE UNIQUE INDEX "persistent_volume_claims_name" ON "persistent_volume_claims" USING btree ("namespace","name");--> statement-breakpoint
CREATE INDEX "persistent_volume_claims_deleting" ON "persistent_volume_claims" USING btree ("node_name") WHERE deleting_at is not null;