CREATE TABLE "cron_jobs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"namespace" text NOT NULL,
	"name" text NOT NULL,
	"labels" jsonb NOT NULL,
	"annotations" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"spec" jsonb NOT NULL,
	"generation" integer NOT NULL,
	"resource_version" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_schedule_time" timestamp with time zone,
	"handled_until" timestamp with time zone,
	"next_run_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "owner_cron_job_id" uuid;--> statement-breakpoint
CREATE UNIQUE INDEX "cron_jobs_name" ON "cron_jobs" USING btree ("namespace","name");--> statement-breakpoint
CREATE INDEX "cron_jobs_next_run_at" ON "cron_jobs" USING btree ("next_run_at") WHERE "cron_jobs"."next_run_at" is not null;--> statement-breakpoint
CREATE INDEX "deployments_owner_cron_job" ON "deployments" USING btree ("owner_cron_job_id") WHERE "deployments"."owner_cron_job_id" is not null;