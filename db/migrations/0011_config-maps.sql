CREATE TABLE "config_maps" (
	"id" uuid PRIMARY KEY NOT NULL,
	"namespace" text NOT NULL,
	"name" text NOT NULL,
	"labels" jsonb NOT NULL,
	"annotations" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"data" jsonb NOT NULL,
	"binary_data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"immutable" boolean DEFAULT false NOT NULL,
	"resource_version" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "config_maps_name" ON "config_maps" USING btree ("namespace","name");