-- Least-privilege roles for landfall. Run as a superuser (or the schema owner), e.g.
--   psql -v schema=public -v writer_password="'...'" -v analyst_password="'...'" -f deploy/sql/roles.sql
-- The pipeline connects as landfall_writer (PGUSER=landfall_writer, PGPASSWORD from the environment);
-- dashboards connect as landfall_analyst.
\set ON_ERROR_STOP on

CREATE ROLE landfall_writer LOGIN PASSWORD :writer_password;
CREATE ROLE landfall_analyst LOGIN PASSWORD :analyst_password;

-- Nobody creates objects in public by default (PostgreSQL 15's default; older servers let
-- every role do so). Roles that need it get an explicit grant, as the writer below if its schema
-- is public.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- The writer creates and fills the dataset tables in its schema, and nothing else.
GRANT USAGE, CREATE ON SCHEMA :"schema" TO landfall_writer;

-- The analyst reads every table and view the writer creates there, and writes nothing.
GRANT USAGE ON SCHEMA :"schema" TO landfall_analyst;
GRANT SELECT ON ALL TABLES IN SCHEMA :"schema" TO landfall_analyst;
ALTER DEFAULT PRIVILEGES FOR ROLE landfall_writer IN SCHEMA :"schema"
  GRANT SELECT ON TABLES TO landfall_analyst;
