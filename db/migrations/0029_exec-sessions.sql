CREATE TABLE "exec_sessions" (
	"id" text PRIMARY KEY NOT NULL,
	"node_id" uuid NOT NULL,
	"replica_id" text NOT NULL,
	"container" text NOT NULL,
	"command" jsonb NOT NULL,
	"tty" boolean NOT NULL,
	"stdin" boolean NOT NULL,
	"who" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"taken_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "exec_sessions" ADD CONSTRAINT "exec_sessions_node_id_nodes_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."nodes"("id") ON DELETE cascade ON UPDATE no action;