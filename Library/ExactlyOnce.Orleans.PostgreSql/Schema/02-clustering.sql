-- 02-clustering.sql
-- Cluster membership for Microsoft.Orleans.Clustering.AdoNet: one version row per deployment
-- (the table-wide optimistic-concurrency token that becomes the membership ETag), one row per
-- silo incarnation, the two functions that change both atomically, and the ten clustering keys
-- of the OrleansQuery catalog (including the optional CleanupDefunctSiloEntryKey).
-- Safe to run any number of times. Requires 01-catalog.sql.

-- One row per deployment (the ClusterId). Version starts at 0 and only ever grows by exactly 1
-- per successful member insert or update; silos compare it across snapshots.
CREATE TABLE IF NOT EXISTS OrleansMembershipVersion
(
    DeploymentId   text        NOT NULL PRIMARY KEY,
    Version        integer     NOT NULL DEFAULT 0,
    LastChangeTime timestamptz NOT NULL DEFAULT now()  -- informational; never read by Orleans
);

-- One row per silo incarnation. Address is unbounded text (IPv6 with a scope id can be long),
-- SuspectTimes is an unbounded "address,time|address,time" list, times are timestamptz so the
-- session time zone never matters.
CREATE TABLE IF NOT EXISTS OrleansMembership
(
    DeploymentId text        NOT NULL REFERENCES OrleansMembershipVersion (DeploymentId),
    Address      text        NOT NULL,
    Port         integer     NOT NULL,
    Generation   integer     NOT NULL,
    SiloName     text        NOT NULL,
    HostName     text        NOT NULL,
    Status       integer     NOT NULL,
    ProxyPort    integer     NOT NULL,
    SuspectTimes text        NULL,
    StartTime    timestamptz NOT NULL,
    IAmAliveTime timestamptz NOT NULL,
    PRIMARY KEY (DeploymentId, Address, Port, Generation)
);

-- InsertMembershipKey: add a silo row and bump the version by exactly 1, but only if the caller
-- read the current version and the silo row does not exist yet. Any conflict returns false and
-- leaves everything unchanged (a duplicate is a normal conflict, not an error).
CREATE OR REPLACE FUNCTION orleans_membership_insert(
    p_deployment_id   text,
    p_address         text,
    p_port            integer,
    p_generation      integer,
    p_silo_name       text,
    p_host_name       text,
    p_status          integer,
    p_proxy_port      integer,
    p_start_time      timestamptz,
    p_i_am_alive_time timestamptz,
    p_version         integer)
RETURNS boolean
LANGUAGE plpgsql
AS $fn$
BEGIN
    -- Lock the version row only if it still holds the expected version. A concurrent writer that
    -- won first has moved it on, so after the lock wait the row no longer qualifies and we lose.
    -- Int32 max is treated as a conflict: the runtime computes version + 1 with checked math.
    PERFORM 1
      FROM OrleansMembershipVersion
     WHERE DeploymentId = p_deployment_id
       AND Version = p_version
       AND Version < 2147483647
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN false;
    END IF;

    INSERT INTO OrleansMembership
        (DeploymentId, Address, Port, Generation, SiloName, HostName, Status, ProxyPort,
         SuspectTimes, StartTime, IAmAliveTime)
    VALUES
        (p_deployment_id, p_address, p_port, p_generation, p_silo_name, p_host_name, p_status,
         p_proxy_port, NULL, p_start_time, p_i_am_alive_time)
    ON CONFLICT (DeploymentId, Address, Port, Generation) DO NOTHING;
    IF NOT FOUND THEN
        RETURN false;  -- duplicate silo: nothing was written yet, so nothing to undo
    END IF;

    UPDATE OrleansMembershipVersion
       SET Version = Version + 1,
           LastChangeTime = now()
     WHERE DeploymentId = p_deployment_id;
    RETURN true;
END
$fn$;

-- UpdateMembershipKey: change status, suspect times and alive time of an existing silo row and
-- bump the version by exactly 1, only if the caller read the current version.
CREATE OR REPLACE FUNCTION orleans_membership_update(
    p_deployment_id   text,
    p_address         text,
    p_port            integer,
    p_generation      integer,
    p_status          integer,
    p_suspect_times   text,
    p_i_am_alive_time timestamptz,
    p_version         integer)
RETURNS boolean
LANGUAGE plpgsql
AS $fn$
BEGIN
    PERFORM 1
      FROM OrleansMembershipVersion
     WHERE DeploymentId = p_deployment_id
       AND Version = p_version
       AND Version < 2147483647
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN false;
    END IF;

    -- Keep the later alive time: a heartbeat may have stored a newer one after the caller read.
    UPDATE OrleansMembership
       SET Status = p_status,
           SuspectTimes = p_suspect_times,
           IAmAliveTime = GREATEST(IAmAliveTime, p_i_am_alive_time)
     WHERE DeploymentId = p_deployment_id
       AND Address = p_address
       AND Port = p_port
       AND Generation = p_generation;
    IF NOT FOUND THEN
        RETURN false;  -- missing row: only a lock was taken, nothing changed
    END IF;

    UPDATE OrleansMembershipVersion
       SET Version = Version + 1,
           LastChangeTime = now()
     WHERE DeploymentId = p_deployment_id;
    RETURN true;
END
$fn$;

INSERT INTO OrleansQuery (QueryKey, QueryText)
VALUES
-- Create the version row once; true only for the call that created it, never an error.
('InsertMembershipVersionKey', $q$
WITH inserted AS (
    INSERT INTO OrleansMembershipVersion (DeploymentId, Version, LastChangeTime)
    VALUES (@DeploymentId, 0, now())
    ON CONFLICT (DeploymentId) DO NOTHING
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM inserted) AS Inserted;
$q$),

-- One statement, so version and members come from one snapshot. The outer join yields exactly
-- one member-less row (StartTime NULL) with the version when the deployment has no silo.
('MembershipReadAllKey', $q$
SELECT m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort,
       m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
  FROM OrleansMembershipVersion AS v
  LEFT JOIN OrleansMembership AS m
         ON m.DeploymentId = v.DeploymentId
 WHERE v.DeploymentId = @DeploymentId;
$q$),

('MembershipReadRowKey', $q$
SELECT m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort,
       m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
  FROM OrleansMembershipVersion AS v
  LEFT JOIN OrleansMembership AS m
         ON m.DeploymentId = v.DeploymentId
        AND m.Address = @Address
        AND m.Port = @Port
        AND m.Generation = @Generation
 WHERE v.DeploymentId = @DeploymentId;
$q$),

-- SuspectTimes is not bound for inserts; the function stores NULL.
('InsertMembershipKey', $q$
SELECT orleans_membership_insert(@DeploymentId, @Address, @Port, @Generation, @SiloName,
                                 @HostName, @Status, @ProxyPort, @StartTime, @IAmAliveTime,
                                 @Version) AS Inserted;
$q$),

('UpdateMembershipKey', $q$
SELECT orleans_membership_update(@DeploymentId, @Address, @Port, @Generation, @Status,
                                 @SuspectTimes, @IAmAliveTime, @Version) AS Updated;
$q$),

-- Heartbeat: one primary-key update that only moves the alive time forward and never touches
-- the version (bumping it would invalidate every silo ETag every 30 s).
('UpdateIAmAlivetimeKey', $q$
UPDATE OrleansMembership
   SET IAmAliveTime = @IAmAliveTime
 WHERE DeploymentId = @DeploymentId
   AND Address = @Address
   AND Port = @Port
   AND Generation = @Generation
   AND IAmAliveTime < @IAmAliveTime;
$q$),

('GatewaysQueryKey', $q$
SELECT Address, ProxyPort, Generation
  FROM OrleansMembership
 WHERE DeploymentId = @DeploymentId
   AND Status = @Status
   AND ProxyPort > 0;
$q$),

-- Tools and tests only. Members first because of the foreign key to the version row.
('DeleteMembershipTableEntriesKey', $q$
DELETE FROM OrleansMembership WHERE DeploymentId = @DeploymentId;
DELETE FROM OrleansMembershipVersion WHERE DeploymentId = @DeploymentId;
$q$),

-- Bulk cleanup (used only if the single-row key below is absent): Dead rows (status 6) whose
-- start and alive times are both before the cutoff. The version is left alone.
('CleanupDefunctSiloEntriesKey', $q$
DELETE FROM OrleansMembership
 WHERE DeploymentId = @DeploymentId
   AND Status = 6
   AND IAmAliveTime < @IAmAliveTime
   AND StartTime < @IAmAliveTime;
$q$),

-- Single-row cleanup: compare-and-remove. The row goes only if it is still Dead and still has
-- the start time, alive time and suspect times the runtime read (NULL and blank suspect times
-- count as equal), so a row changed since the read survives. The version is left alone.
('CleanupDefunctSiloEntryKey', $q$
DELETE FROM OrleansMembership
 WHERE DeploymentId = @DeploymentId
   AND Address = @Address
   AND Port = @Port
   AND Generation = @Generation
   AND Status = 6
   AND StartTime = @StartTime
   AND IAmAliveTime = @IAmAliveTime
   AND COALESCE(btrim(SuspectTimes), '') = COALESCE(btrim(@SuspectTimes), '');
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
