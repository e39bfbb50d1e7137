-- PostgreSQL initialisation for the hub (docker-compose.yml mounts this file into
-- /docker-entrypoint-initdb.d/). The postgres image runs it once, as the superuser, on the
-- first start with an empty data volume; later starts skip it.
--
-- It creates the login role `hub` (not a superuser) and the database `hub` owned by it. The
-- tables are NOT created here: `hub db upgrade` (the compose `migrate` service) runs the
-- hub's Alembic migrations as `hub`, and does so again after every upgrade of the hub.
--
-- The role's password is read from the container's environment (HUB_POSTGRES_PASSWORD, which
-- docker-compose.yml takes from .env), so no secret is committed. psql's \getenv needs psql 15+
-- (the postgres:16 image has it).

\set ON_ERROR_STOP on

\getenv hub_password HUB_POSTGRES_PASSWORD
\if :{?hub_password}
\else
    DO $$ BEGIN
        RAISE EXCEPTION 'HUB_POSTGRES_PASSWORD is not set in the postgres container: set it in .env';
    END $$;
\endif

-- SCRAM-SHA-256 (the default since PostgreSQL 14): the server stores a salted verifier only.
SET password_encryption = 'scram-sha-256';
CREATE ROLE hub LOGIN PASSWORD :'hub_password' NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION;
\unset hub_password

-- UTF-8 whatever the server's default: reports carry Danish names and free text (æ, ø, å).
CREATE DATABASE hub OWNER hub ENCODING 'UTF8' TEMPLATE template0;
-- Only the owner (and superusers) may connect.
REVOKE ALL ON DATABASE hub FROM PUBLIC;
