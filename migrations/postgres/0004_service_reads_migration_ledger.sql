-- /readyz reports whether every migration has been applied by reading sqlx's migration ledger
-- (`_sqlx_migrations`, created by whoever runs the first migration). A server that logs in as a
-- member of taizhang_service and leaves migrating to the owner (docker-compose's `migrate`
-- service, TAIZHANG_MIGRATE=false) must be able to read it, or it never reports ready.
-- Reading it reveals only migration versions and checksums.
GRANT SELECT ON _sqlx_migrations TO taizhang_service;
