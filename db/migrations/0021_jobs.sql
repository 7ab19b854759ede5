DROP INDEX "deployments_live_name";--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "kind" text DEFAULT 'Deployment' NOT NULL;--> statement-breakpoint
ALTER TABLE "replicas" ADD COLUMN "completion_index" integer;--> statement-breakpoint
ALTER TABLE "replicas" ADD COLUMN "finished_at" timestamp with time zone;--> statement-breakpoint
CREATE UNIQUE INDEX "deployments_live_name" ON "deployments" USING btree ("namespace","kind","name") WHERE "deployments"."deleted_at" is null;--> statement-breakpoint
-- A Job's finished pod (finished_at set) holds nothing on its node, as a pod that is no longer
-- desired running does not: the ledger counts a replica while it is placed, desired running and
-- not finished. Rows existing before this migration have no finished_at, so the sums stand.
CREATE OR REPLACE FUNCTION berth_record_allocation_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO allocation_changes (node_id, cpu_millis, memory_bytes, replicas)
    SELECT node_id, sum(request_cpu_millis), sum(request_memory_bytes), count(*)
    FROM new_rows WHERE node_id IS NOT NULL AND desired = 'running' AND finished_at IS NULL
    GROUP BY node_id;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO allocation_changes (node_id, cpu_millis, memory_bytes, replicas)
    SELECT node_id, -sum(request_cpu_millis), -sum(request_memory_bytes), -count(*)
    FROM old_rows WHERE node_id IS NOT NULL AND desired = 'running' AND finished_at IS NULL
    GROUP BY node_id;
  ELSE
    INSERT INTO allocation_changes (node_id, cpu_millis, memory_bytes, replicas)
    SELECT node_id, sum(cpu), sum(memory), sum(replicas)
    FROM (
      SELECT node_id, request_cpu_millis AS cpu, request_memory_bytes AS memory, 1 AS replicas
      FROM new_rows WHERE node_id IS NOT NULL AND desired = 'running' AND finished_at IS NULL
      UNION ALL
      SELECT node_id, -request_cpu_millis, -request_memory_bytes, -1
      FROM old_rows WHERE node_id IS NOT NULL AND desired = 'running' AND finished_at IS NULL
    ) AS moved
    GROUP BY node_id
    HAVING sum(cpu) <> 0 OR sum(memory) <> 0 OR sum(replicas) <> 0;
  END IF;
  RETURN NULL;
END
$$;
