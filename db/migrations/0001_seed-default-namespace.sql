-- The `default` namespace always exists (API.md).
INSERT INTO "namespaces" ("name") VALUES ('default') ON CONFLICT DO NOTHING;
