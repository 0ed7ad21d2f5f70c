-- 03-persistence.sql
-- Grain state storage for Microsoft.Orleans.Persistence.AdoNet: one row per stored state, the
-- functions behind read, write (optimistic concurrency on an integer version), clear and delete,
-- and the four persistence keys of the OrleansQuery catalog.
-- Safe to run any number of times. Requires 01-catalog.sql.
--
-- Identity is (ServiceId, GrainTypeString, GrainIdN0, GrainIdN1, GrainIdExtensionString), where
-- the extension is nullable and NULL is a different key from ''. The hash parameters the provider
-- also binds (GrainIdHash, GrainTypeHash) are deliberately ignored: they are not unique, and
-- filtering on them would orphan every row if the hasher option ever changed.

CREATE TABLE IF NOT EXISTS OrleansStorage
(
    ServiceId              text        NOT NULL,
    GrainTypeString        text        NOT NULL,  -- the state name, not the grain class
    GrainIdN0              bigint      NOT NULL,
    GrainIdN1              bigint      NOT NULL,
    GrainIdExtensionString text        NULL,      -- NULL: no extension; '' is a real extension
    PayloadBinary          bytea       NULL,      -- NULL after a clear (the row and version stay)
    Version                integer     NOT NULL,
    ModifiedOn             timestamptz NOT NULL DEFAULT now()
);

-- The full identity is unique with NULLs equal (PostgreSQL 15+), so two racing first writes of
-- the same grain can never both create a row, while NULL and '' stay different keys.
CREATE UNIQUE INDEX IF NOT EXISTS OrleansStorage_Identity
    ON OrleansStorage (ServiceId, GrainTypeString, GrainIdN0, GrainIdN1, GrainIdExtensionString)
    NULLS NOT DISTINCT;

-- Next version after v. Wraps to 1 instead of overflowing Int32, which would otherwise make the
-- grain unwritable for ever; any value different from the ETag counts as success.
CREATE OR REPLACE FUNCTION orleans_storage_next_version(p_version integer)
RETURNS integer
LANGUAGE sql
IMMUTABLE
AS $fn$
    SELECT CASE WHEN p_version >= 2147483647 THEN 1 ELSE p_version + 1 END;
$fn$;

-- Each function below branches on a NULL extension instead of using IS NOT DISTINCT FROM,
-- because only "= value" and "IS NULL" can be index conditions on the extension column; with
-- IS NOT DISTINCT FROM every string-keyed grain of a state name would be scanned.

-- ReadFromStorageKey: zero or one row.
CREATE OR REPLACE FUNCTION orleans_storage_read(
    p_service_id text,
    p_grain_type text,
    p_n0         bigint,
    p_n1         bigint,
    p_extension  text)
RETURNS TABLE (o_payload bytea, o_version integer)
LANGUAGE plpgsql
STABLE
AS $fn$
BEGIN
    IF p_extension IS NULL THEN
        RETURN QUERY
        SELECT s.PayloadBinary, s.Version
          FROM OrleansStorage AS s
         WHERE s.ServiceId = p_service_id AND s.GrainTypeString = p_grain_type
           AND s.GrainIdN0 = p_n0 AND s.GrainIdN1 = p_n1
           AND s.GrainIdExtensionString IS NULL;
    ELSE
        RETURN QUERY
        SELECT s.PayloadBinary, s.Version
          FROM OrleansStorage AS s
         WHERE s.ServiceId = p_service_id AND s.GrainTypeString = p_grain_type
           AND s.GrainIdN0 = p_n0 AND s.GrainIdN1 = p_n1
           AND s.GrainIdExtensionString = p_extension;
    END IF;
END
$fn$;

-- WriteToStorageKey: returns the new version on success; on a conflict returns NULL (first write
-- while a row exists) or the supplied version unchanged (missing row or version mismatch).
CREATE OR REPLACE FUNCTION orleans_storage_write(
    p_service_id text,
    p_grain_type text,
    p_n0         bigint,
    p_n1         bigint,
    p_extension  text,
    p_version    integer,
    p_payload    bytea)
RETURNS integer
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_new integer;
BEGIN
    IF p_version IS NULL THEN
        -- First write: create the row only if no row with this identity exists (even a cleared
        -- one). A conflict, also with a concurrent first write, is the "no change" result.
        BEGIN
            INSERT INTO OrleansStorage
                (ServiceId, GrainTypeString, GrainIdN0, GrainIdN1, GrainIdExtensionString,
                 PayloadBinary, Version, ModifiedOn)
            VALUES
                (p_service_id, p_grain_type, p_n0, p_n1, p_extension, p_payload, 1, now())
            ON CONFLICT DO NOTHING
            RETURNING Version INTO v_new;
        EXCEPTION WHEN unique_violation THEN
            -- Defensive: ON CONFLICT already covers this; never surface it as an error.
            v_new := NULL;
        END;
        RETURN v_new;
    END IF;

    -- A version was supplied: update only on an exact match, never fall back to an insert.
    IF p_extension IS NULL THEN
        UPDATE OrleansStorage AS s
           SET PayloadBinary = p_payload,
               Version = orleans_storage_next_version(s.Version),
               ModifiedOn = now()
         WHERE s.ServiceId = p_service_id AND s.GrainTypeString = p_grain_type
           AND s.GrainIdN0 = p_n0 AND s.GrainIdN1 = p_n1
           AND s.GrainIdExtensionString IS NULL
           AND s.Version = p_version
        RETURNING s.Version INTO v_new;
    ELSE
        UPDATE OrleansStorage AS s
           SET PayloadBinary = p_payload,
               Version = orleans_storage_next_version(s.Version),
               ModifiedOn = now()
         WHERE s.ServiceId = p_service_id AND s.GrainTypeString = p_grain_type
           AND s.GrainIdN0 = p_n0 AND s.GrainIdN1 = p_n1
           AND s.GrainIdExtensionString = p_extension
           AND s.Version = p_version
        RETURNING s.Version INTO v_new;
    END IF;
    RETURN COALESCE(v_new, p_version);
END
$fn$;

-- ClearStorageKey: on a version match keep the row, set the payload to NULL and bump the
-- version; return it. Otherwise return no row (a conflict when the grain held an ETag).
CREATE OR REPLACE FUNCTION orleans_storage_clear(
    p_service_id text,
    p_grain_type text,
    p_n0         bigint,
    p_n1         bigint,
    p_extension  text,
    p_version    integer)
RETURNS TABLE (o_new_version integer)
LANGUAGE plpgsql
AS $fn$
BEGIN
    IF p_extension IS NULL THEN
        RETURN QUERY
        UPDATE OrleansStorage AS s
           SET PayloadBinary = NULL,
               Version = orleans_storage_next_version(s.Version),
               ModifiedOn = now()
         WHERE s.ServiceId = p_service_id AND s.GrainTypeString = p_grain_type
           AND s.GrainIdN0 = p_n0 AND s.GrainIdN1 = p_n1
           AND s.GrainIdExtensionString IS NULL
           AND s.Version = p_version
        RETURNING s.Version;
    ELSE
        RETURN QUERY
        UPDATE OrleansStorage AS s
           SET PayloadBinary = NULL,
               Version = orleans_storage_next_version(s.Version),
               ModifiedOn = now()
         WHERE s.ServiceId = p_service_id AND s.GrainTypeString = p_grain_type
           AND s.GrainIdN0 = p_n0 AND s.GrainIdN1 = p_n1
           AND s.GrainIdExtensionString = p_extension
           AND s.Version = p_version
        RETURNING s.Version;
    END IF;
END
$fn$;

-- DeleteStorageKey (DeleteStateOnClear = true): on a version match remove the row and return a
-- non-NULL value different from the supplied version; otherwise return no row.
CREATE OR REPLACE FUNCTION orleans_storage_delete(
    p_service_id text,
    p_grain_type text,
    p_n0         bigint,
    p_n1         bigint,
    p_extension  text,
    p_version    integer)
RETURNS TABLE (o_new_version integer)
LANGUAGE plpgsql
AS $fn$
BEGIN
    IF p_extension IS NULL THEN
        RETURN QUERY
        DELETE FROM OrleansStorage AS s
         WHERE s.ServiceId = p_service_id AND s.GrainTypeString = p_grain_type
           AND s.GrainIdN0 = p_n0 AND s.GrainIdN1 = p_n1
           AND s.GrainIdExtensionString IS NULL
           AND s.Version = p_version
        RETURNING orleans_storage_next_version(s.Version);
    ELSE
        RETURN QUERY
        DELETE FROM OrleansStorage AS s
         WHERE s.ServiceId = p_service_id AND s.GrainTypeString = p_grain_type
           AND s.GrainIdN0 = p_n0 AND s.GrainIdN1 = p_n1
           AND s.GrainIdExtensionString = p_extension
           AND s.Version = p_version
        RETURNING orleans_storage_next_version(s.Version);
    END IF;
END
$fn$;

-- The texts bind only identity parameters; GrainIdHash and GrainTypeHash are bound by the
-- provider but unused (harmless).
INSERT INTO OrleansQuery (QueryKey, QueryText)
VALUES
('ReadFromStorageKey', $q$
SELECT o_payload AS PayloadBinary, o_version AS Version
  FROM orleans_storage_read(@ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1,
                            @GrainIdExtensionString);
$q$),

('WriteToStorageKey', $q$
SELECT orleans_storage_write(@ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1,
                             @GrainIdExtensionString, @GrainStateVersion, @PayloadBinary)
       AS NewGrainStateVersion;
$q$),

('ClearStorageKey', $q$
SELECT o_new_version AS NewGrainStateVersion
  FROM orleans_storage_clear(@ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1,
                             @GrainIdExtensionString, @GrainStateVersion);
$q$),

('DeleteStorageKey', $q$
SELECT o_new_version AS NewGrainStateVersion
  FROM orleans_storage_delete(@ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1,
                              @GrainIdExtensionString, @GrainStateVersion);
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
