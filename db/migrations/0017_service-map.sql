CREATE TABLE "network_versions" (
	"id" integer PRIMARY KEY NOT NULL,
	"version" bigint NOT NULL
);
--> statement-breakpoint
INSERT INTO "network_versions" ("id", "version") VALUES (1, 1);
--> statement-breakpoint
-- Bumps the service map's version once per transaction, at commit, and wakes every agent's
-- long-poll (the control plane LISTENs on this channel; '*' means every node).
CREATE FUNCTION "berth_bump_network_version"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('berth.network_bumped', true) IS DISTINCT FROM txid_current()::text THEN
    PERFORM set_config('berth.network_bumped', txid_current()::text, true);
    UPDATE "network_versions" SET "version" = "version" + 1 WHERE "id" = 1;
    PERFORM pg_notify('berth_assignments', '*');
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "replicas_network_update" AFTER UPDATE ON "replicas" DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (
    OLD."ready" IS DISTINCT FROM NEW."ready" OR OLD."desired" IS DISTINCT FROM NEW."desired"
    OR OLD."host_ports" IS DISTINCT FROM NEW."host_ports" OR OLD."node_id" IS DISTINCT FROM NEW."node_id"
  ) EXECUTE FUNCTION "berth_bump_network_version"();
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "replicas_network_delete" AFTER DELETE ON "replicas" DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (OLD."ready") EXECUTE FUNCTION "berth_bump_network_version"();
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "nodes_network_update" AFTER UPDATE ON "nodes" DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (OLD."status" IS DISTINCT FROM NEW."status" OR OLD."address" IS DISTINCT FROM NEW."address")
  EXECUTE FUNCTION "berth_bump_network_version"();
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "nodes_network_delete" AFTER DELETE ON "nodes" DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION "berth_bump_network_version"();
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "services_network" AFTER INSERT OR UPDATE OR DELETE ON "services" DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION "berth_bump_network_version"();
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "namespace_policies_network" AFTER INSERT OR UPDATE OR DELETE ON "namespace_policies" DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION "berth_bump_network_version"();
