ALTER TABLE "namespaces" ADD COLUMN "labels" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "namespaces" ADD COLUMN "annotations" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "namespaces" ADD COLUMN "terminating_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "namespaces_terminating" ON "namespaces" USING btree ("terminating_at") WHERE "namespaces"."terminating_at" is not null;--> statement-breakpoint
-- Secrets and ServiceAccounts are written through the Kubernetes face too: their writes take the
-- cluster clock as every other served kind's do (migration 0023), so a write names the
-- resourceVersion it read. Those that exist already start at the clock's first value.
INSERT INTO "kube_versions" ("resource", "namespace", "name", "rv", "berth_version")
  SELECT 'secrets', "namespace", "name", 1, "resource_version"::text FROM "secrets"
  UNION ALL SELECT 'serviceaccounts', "namespace", "name", 1, "resource_version"::text FROM "service_accounts"
  ON CONFLICT DO NOTHING;
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "secrets_kube" AFTER INSERT OR UPDATE OR DELETE ON "secrets" DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION "berth_kube_change"('secrets', 'name');
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "service_accounts_kube" AFTER INSERT OR UPDATE OR DELETE ON "service_accounts" DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION "berth_kube_change"('serviceaccounts', 'name');
