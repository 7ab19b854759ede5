CREATE TABLE "deployments" (
	"id" uuid PRIMARY KEY NOT NULL,
	"namespace" text NOT NULL,
	"name" text NOT NULL,
	"labels" jsonb NOT NULL,
	"annotations" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"spec" jsonb NOT NULL,
	"generation" integer NOT NULL,
	"resource_version" bigint NOT NULL,
	"status" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	"reconcile_at" timestamp with time zone,
	"progress_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"namespace" text NOT NULL,
	"object_kind" text NOT NULL,
	"object_name" text NOT NULL,
	"type" text NOT NULL,
	"reason" text NOT NULL,
	"message" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "join_tokens" (
	"id" text PRIMARY KEY NOT NULL,
	"secret_hash" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"max_uses" integer,
	"uses" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "join_tokens_secret_hash_unique" UNIQUE("secret_hash")
);
--> statement-breakpoint
CREATE TABLE "log_requests" (
	"id" text PRIMARY KEY NOT NULL,
	"node_id" uuid NOT NULL,
	"replica_id" text NOT NULL,
	"tail" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"answered_at" timestamp with time zone,
	"lines" jsonb,
	"error" text
);
--> statement-breakpoint
CREATE TABLE "namespaces" (
	"name" text PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "nodes" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"token_hash" text,
	"labels" jsonb NOT NULL,
	"address" text NOT NULL,
	"agent_version" text NOT NULL,
	"capacity_cpu_millis" integer NOT NULL,
	"capacity_memory_bytes" bigint NOT NULL,
	"allocatable_cpu_millis" integer NOT NULL,
	"allocatable_memory_bytes" bigint NOT NULL,
	"unschedulable" boolean DEFAULT false NOT NULL,
	"status" text DEFAULT 'Ready' NOT NULL,
	"status_changed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_heartbeat" timestamp with time zone DEFAULT now() NOT NULL,
	"assignment_version" bigint DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "nodes_name_unique" UNIQUE("name"),
	CONSTRAINT "nodes_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "replicas" (
	"id" text PRIMARY KEY NOT NULL,
	"deployment_id" uuid NOT NULL,
	"namespace" text NOT NULL,
	"deployment_name" text NOT NULL,
	"revision" integer NOT NULL,
	"node_id" uuid,
	"desired" text NOT NULL,
	"phase" text NOT NULL,
	"ready" boolean DEFAULT false NOT NULL,
	"ready_since" timestamp with time zone,
	"message" text,
	"restart_count" integer DEFAULT 0 NOT NULL,
	"host_ports" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"containers" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"request_cpu_millis" integer DEFAULT 0 NOT NULL,
	"request_memory_bytes" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"stopped_at" timestamp with time zone,
	"draining" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE "revisions" (
	"id" serial PRIMARY KEY NOT NULL,
	"deployment_id" uuid NOT NULL,
	"revision" integer NOT NULL,
	"template_hash" text NOT NULL,
	"template" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"available_at" timestamp with time zone,
	CONSTRAINT "revisions_number" UNIQUE("deployment_id","revision"),
	CONSTRAINT "revisions_hash" UNIQUE("deployment_id","template_hash")
);
--> statement-breakpoint
CREATE TABLE "secrets" (
	"id" uuid PRIMARY KEY NOT NULL,
	"namespace" text NOT NULL,
	"name" text NOT NULL,
	"labels" jsonb NOT NULL,
	"type" text NOT NULL,
	"keys" jsonb NOT NULL,
	"ciphertext" text NOT NULL,
	"resource_version" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "services" (
	"id" uuid PRIMARY KEY NOT NULL,
	"namespace" text NOT NULL,
	"name" text NOT NULL,
	"labels" jsonb NOT NULL,
	"spec" jsonb NOT NULL,
	"hosts" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"generation" integer NOT NULL,
	"resource_version" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tokens" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"role" text NOT NULL,
	"namespaces" jsonb NOT NULL,
	"secret_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone,
	CONSTRAINT "tokens_secret_hash_unique" UNIQUE("secret_hash")
);
--> statement-breakpoint
ALTER TABLE "log_requests" ADD CONSTRAINT "log_requests_node_id_nodes_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."nodes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "replicas" ADD CONSTRAINT "replicas_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."deployments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "replicas" ADD CONSTRAINT "replicas_node_id_nodes_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."nodes"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "revisions" ADD CONSTRAINT "revisions_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."deployments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "deployments_live_name" ON "deployments" USING btree ("namespace","name") WHERE "deployments"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "deployments_reconcile_at" ON "deployments" USING btree ("reconcile_at") WHERE "deployments"."reconcile_at" is not null;--> statement-breakpoint
CREATE INDEX "events_object" ON "events" USING btree ("namespace","object_kind","object_name","id");--> statement-breakpoint
CREATE INDEX "replicas_deployment" ON "replicas" USING btree ("deployment_id");--> statement-breakpoint
CREATE INDEX "replicas_node" ON "replicas" USING btree ("node_id");--> statement-breakpoint
CREATE INDEX "replicas_unplaced" ON "replicas" USING btree ("deployment_id") WHERE "replicas"."node_id" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "secrets_name" ON "secrets" USING btree ("namespace","name");--> statement-breakpoint
CREATE UNIQUE INDEX "services_name" ON "services" USING btree ("namespace","name");