CREATE TABLE "service_node_ports" (
	"node_port" integer PRIMARY KEY NOT NULL,
	"service_id" uuid NOT NULL
);
--> statement-breakpoint
ALTER TABLE "services" ADD COLUMN "cluster_ip" text;--> statement-breakpoint
ALTER TABLE "service_node_ports" ADD CONSTRAINT "service_node_ports_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "service_node_ports_service" ON "service_node_ports" USING btree ("service_id");--> statement-breakpoint
CREATE UNIQUE INDEX "services_cluster_ip" ON "services" USING btree ("cluster_ip");