CREATE TABLE "node_usage" (
	"node_id" uuid PRIMARY KEY NOT NULL,
	"cpu_nano_cores" bigint NOT NULL,
	"memory_bytes" bigint NOT NULL,
	"sampled_at" timestamp with time zone NOT NULL,
	"window_seconds" double precision NOT NULL
);
--> statement-breakpoint
CREATE TABLE "replica_usage" (
	"replica_id" text PRIMARY KEY NOT NULL,
	"node_id" uuid NOT NULL,
	"containers" jsonb NOT NULL,
	"sampled_at" timestamp with time zone NOT NULL,
	"window_seconds" double precision NOT NULL
);
--> statement-breakpoint
ALTER TABLE "node_usage" ADD CONSTRAINT "node_usage_node_id_nodes_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."nodes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "replica_usage" ADD CONSTRAINT "replica_usage_node_id_nodes_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."nodes"("id") ON DELETE cascade ON UPDATE no action;