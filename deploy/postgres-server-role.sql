-- The role the yijia server connects as on PostgreSQL, run once by the database's owner after
-- the first start (`psql -d yijia -f deploy/postgres-server-role.sql`, then set its password
-- and give the server `postgres://yijia_server:…@host/yijia`). It reads and writes the
-- community's records but may only append to the audit log: even with the append-only
-- triggers dropped by the owner, the server's own connection can neither change, delete nor
-- truncate an entry. Migrations are run by the owner (start the new version once as the owner).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'yijia_server') THEN
        CREATE ROLE yijia_server LOGIN;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA public TO yijia_server;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO yijia_server;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO yijia_server;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM yijia_server;
REVOKE DELETE, TRUNCATE ON audit_heads FROM yijia_server;
