CREATE TABLE "allocation_changes" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "allocation_changes_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"node_id" uuid NOT NULL,
	"cpu_millis" bigint NOT NULL,
	"memory_bytes" bigint NOT NULL,
	"replicas" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "node_allocations" (
	"node_id" uuid PRIMARY KEY NOT NULL,
	"cpu_millis" bigint DEFAULT 0 NOT NULL,
	"memory_bytes" bigint DEFAULT 0 NOT NULL,
	"replicas" integer DEFAULT 0 NOT NULL
);
