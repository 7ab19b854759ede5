CREATE TABLE "kube_changes" (
	"rv" bigint PRIMARY KEY NOT NULL,
	"resource" text NOT NULL,
	"namespace" text NOT NULL,
	"name" text NOT NULL,
	"type" text NOT NULL,
	"labels" jsonb,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "kube_clock" (
	"id" integer PRIMARY KEY NOT NULL,
	"rv" bigint NOT NULL,
	"pruned_through" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "kube_versions" (
	"resource" text NOT NULL,
	"namespace" text NOT NULL,
	"name" text NOT NULL,
	"rv" bigint NOT NULL,
	"berth_version" text,
	CONSTRAINT "kube_versions_resource_namespace_name_pk" PRIMARY KEY("resource","namespace","name")
);
--> statement-breakpoint
CREATE INDEX "kube_changes_at" ON "kube_changes" USING btree ("at");--> statement-breakpoint
INSERT INTO "kube_clock" ("id", "rv", "pruned_through") VALUES (1, 1, 0);
--> statement-breakpoint
-- Objects that exist already start at the clock's first value.
INSERT INTO "kube_versions" ("resource", "namespace", "name", "rv", "berth_version")
  SELECT CASE "kind" WHEN 'Job' THEN 'jobs' ELSE 'deployments' END, "namespace", "name", 1, "resource_version"::text
  FROM "deployments" WHERE "deleted_at" IS NULL
  UNION ALL SELECT 'pods', "namespace", "id", 1, NULL FROM "replicas"
  UNION ALL SELECT 'services', "namespace", "name", 1, "resource_version"::text FROM "services"
  UNION ALL SELECT 'configmaps', "namespace", "name", 1, "resource_version"::text FROM "config_maps"
  UNION ALL SELECT 'cronjobs', "namespace", "name", 1, "resource_version"::text FROM "cron_jobs"
  UNION ALL SELECT 'ingresses', "namespace", "name", 1, "resource_version"::text FROM "ingresses"
  UNION ALL SELECT 'nodes', '', "name", 1, NULL FROM "nodes"
  UNION ALL SELECT 'namespaces', '', "name", 1, NULL FROM "namespaces"
  ON CONFLICT DO NOTHING;
--> statement-breakpoint
-- Records one committed change of an object the Kubernetes face serves: the next clock value
-- (taken at commit: the trigger is deferred, and the clock row's lock is held until the commit
-- ends, so values are in commit order), a change-log row, the object's current value, and a
-- wake-up for the control planes' watch hubs. TG_ARGV: the Kubernetes plural, the name column.
CREATE FUNCTION "berth_kube_change"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  old_row jsonb;
  new_row jsonb;
  cur jsonb;
  res text := TG_ARGV[0];
  key_ns text;
  key_name text;
  gone boolean;
  change_type text;
  next_rv bigint;
  bookkeeping text[] := ARRAY['last_heartbeat', 'assignment_version', 'reconcile_at', 'updated_at', 'progress_at'];
BEGIN
  IF TG_OP <> 'INSERT' THEN old_row := to_jsonb(OLD); END IF;
  IF TG_OP <> 'DELETE' THEN new_row := to_jsonb(NEW); END IF;
  -- A workload marked deleted is already gone from the API: its later writes are not changes.
  IF old_row IS NOT NULL AND old_row->>'deleted_at' IS NOT NULL THEN RETURN NULL; END IF;
  -- Heartbeats and wake-up times are not changes a watcher sees.
  IF TG_OP = 'UPDATE' AND (old_row - bookkeeping) = (new_row - bookkeeping) THEN RETURN NULL; END IF;
  cur := coalesce(new_row, old_row);
  IF res = 'deployments' AND cur->>'kind' = 'Job' THEN res := 'jobs'; END IF;
  key_ns := coalesce(cur->>'namespace', '');
  key_name := cur->>TG_ARGV[1];
  gone := new_row IS NULL OR new_row->>'deleted_at' IS NOT NULL;
  change_type := CASE WHEN gone THEN 'DELETED' WHEN TG_OP = 'INSERT' THEN 'ADDED' ELSE 'MODIFIED' END;
  UPDATE "kube_clock" SET "rv" = "rv" + 1 WHERE "id" = 1 RETURNING "rv" INTO next_rv;
  INSERT INTO "kube_changes" ("rv", "resource", "namespace", "name", "type", "labels")
    VALUES (next_rv, res, key_ns, key_name, change_type, cur->'labels');
  -- The log keeps 15 minutes of changes (a watch from before them is 410 Gone); every thousandth
  -- change trims it, in whichever runtime wrote it.
  IF next_rv % 1000 = 0 THEN
    WITH trimmed AS (DELETE FROM "kube_changes" WHERE "at" < now() - interval '15 minutes' RETURNING "rv")
    UPDATE "kube_clock" SET "pruned_through" = greatest("pruned_through", (SELECT max("rv") FROM trimmed))
      WHERE "id" = 1;
  END IF;
  IF gone THEN
    DELETE FROM "kube_versions" WHERE "resource" = res AND "namespace" = key_ns AND "name" = key_name;
  ELSE
    INSERT INTO "kube_versions" ("resource", "namespace", "name", "rv", "berth_version")
      VALUES (res, key_ns, key_name, next_rv, cur->>'resource_version')
      ON CONFLICT ("resource", "namespace", "name")
      DO UPDATE SET "rv" = excluded."rv", "berth_version" = excluded."berth_version";
  END IF;
  -- Delivered at commit; Postgres folds a transaction's identical notifications into one.
  PERFORM pg_notify('berth_kube', '');
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "deployments_kube" AFTER INSERT OR UPDATE OR DELETE ON "deployments" DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION "berth_kube_change"('deployments', 'name');
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "replicas_kube" AFTER INSERT OR UPDATE OR DELETE ON "replicas" DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION "berth_kube_change"('pods', 'id');
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "services_kube" AFTER INSERT OR UPDATE OR DELETE ON "services" DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION "berth_kube_change"('services', 'name');
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "config_maps_kube" AFTER INSERT OR UPDATE OR DELETE ON "config_maps" DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION "berth_kube_change"('configmaps', 'name');
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "cron_jobs_kube" AFTER INSERT OR UPDATE OR DELETE ON "cron_jobs" DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION "berth_kube_change"('cronjobs', 'name');
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "ingresses_kube" AFTER INSERT OR UPDATE OR DELETE ON "ingresses" DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION "berth_kube_change"('ingresses', 'name');
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "nodes_kube" AFTER INSERT OR UPDATE OR DELETE ON "nodes" DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION "berth_kube_change"('nodes', 'name');
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "namespaces_kube" AFTER INSERT OR UPDATE OR DELETE ON "namespaces" DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION "berth_kube_change"('namespaces', 'name');
--> statement-breakpoint
-- Both clocks lock at commit. The service map's takes the Kubernetes one first, so that every
-- transaction takes them in one order (a namespace policy's write, which only the service map
-- counts, would otherwise lock them the other way round from a replica's, and the two could
-- deadlock).
CREATE OR REPLACE FUNCTION "berth_bump_network_version"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('berth.network_bumped', true) IS DISTINCT FROM txid_current()::text THEN
    PERFORM set_config('berth.network_bumped', txid_current()::text, true);
    PERFORM 1 FROM "kube_clock" WHERE "id" = 1 FOR UPDATE;
    UPDATE "network_versions" SET "version" = "version" + 1 WHERE "id" = 1;
    PERFORM pg_notify('berth_assignments', '*');
  END IF;
  RETURN NULL;
END $$;
