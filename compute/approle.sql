-- The backend's own database role, signing in with IAM database authentication (no password):
-- run by canalco-run-migrations as the RDS master user before every migration, so it must be
-- idempotent. psql variables: app_user (the role) and database.
\set ON_ERROR_STOP on

-- CREATE ROLE has no IF NOT EXISTS: create it only when pg_roles lacks it.
SELECT format('CREATE ROLE %I LOGIN', :'app_user')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app_user') \gexec

-- rds_iam makes RDS accept an IAM authentication token instead of a password for this role.
GRANT rds_iam TO :"app_user";
-- Data only: the application never changes the schema (the migrations do, as the master user).
GRANT CONNECT, TEMPORARY ON DATABASE :"database" TO :"app_user";
GRANT USAGE ON SCHEMA public TO :"app_user";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app_user";
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO :"app_user";
-- Tables and sequences the migrations create later (as this, the master, user) are granted too.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app_user";
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO :"app_user";
