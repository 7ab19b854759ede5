-- Every statement that changes what replicas hold on a node appends the change per node to
-- allocation_changes (see db/schema/allocations.ts). A replica holds its requests on its node
-- while it is placed and desired running: the same rule placement used to sum on every run.
-- Statement-level with transition tables: one append per statement and node, not per row.
CREATE FUNCTION berth_record_allocation_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO allocation_changes (node_id, cpu_millis, memory_bytes, replicas)
    SELECT node_id, sum(request_cpu_millis), sum(request_memory_bytes), count(*)
    FROM new_rows WHERE node_id IS NOT NULL AND desired = 'running'
    GROUP BY node_id;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO allocation_changes (node_id, cpu_millis, memory_bytes, replicas)
    SELECT node_id, -sum(request_cpu_millis), -sum(request_memory_bytes), -count(*)
    FROM old_rows WHERE node_id IS NOT NULL AND desired = 'running'
    GROUP BY node_id;
  ELSE
    INSERT INTO allocation_changes (node_id, cpu_millis, memory_bytes, replicas)
    SELECT node_id, sum(cpu), sum(memory), sum(replicas)
    FROM (
      SELECT node_id, request_cpu_millis AS cpu, request_memory_bytes AS memory, 1 AS replicas
      FROM new_rows WHERE node_id IS NOT NULL AND desired = 'running'
      UNION ALL
      SELECT node_id, -request_cpu_millis, -request_memory_bytes, -1
      FROM old_rows WHERE node_id IS NOT NULL AND desired = 'running'
    ) AS moved
    GROUP BY node_id
    HAVING sum(cpu) <> 0 OR sum(memory) <> 0 OR sum(replicas) <> 0;
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER replicas_allocation_insert AFTER INSERT ON replicas
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION berth_record_allocation_changes();
--> statement-breakpoint
-- Postgres allows no column list on a trigger with transition tables, so the agents' status
-- reports fire this too; they change no allocation and append nothing.
CREATE TRIGGER replicas_allocation_update AFTER UPDATE ON replicas
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION berth_record_allocation_changes();
--> statement-breakpoint
CREATE TRIGGER replicas_allocation_delete AFTER DELETE ON replicas
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION berth_record_allocation_changes();
--> statement-breakpoint
-- What replicas existing before this migration hold.
INSERT INTO node_allocations (node_id, cpu_millis, memory_bytes, replicas)
SELECT node_id, sum(request_cpu_millis), sum(request_memory_bytes), count(*)
FROM replicas WHERE node_id IS NOT NULL AND desired = 'running'
GROUP BY node_id;
