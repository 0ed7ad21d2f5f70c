-- 04-reminders.sql
-- Reminder table for Microsoft.Orleans.Reminders.AdoNet: one row per (service, grain, reminder
-- name), a sequence that hands out row versions (the reminder ETags), and the seven reminder
-- keys of the OrleansQuery catalog.
-- Safe to run any number of times. Requires 01-catalog.sql.

-- Versions come from one sequence, so a re-created reminder never gets the version of a deleted
-- one and a stale handle can not delete the new row. It spans the whole Int32 range and cycles
-- rather than failing: grains often re-register on every activation, and a sequence that ran out
-- would break every registration, while a repeat after 2^32 upserts is harmless in practice.
CREATE SEQUENCE IF NOT EXISTS OrleansRemindersVersion
    AS integer
    MINVALUE -2147483648
    MAXVALUE 2147483647
    START WITH 1
    CYCLE;

-- GrainId, ReminderName and ServiceId are unbounded text (Orleans sets no length limit).
-- GrainHash is the signed reinterpretation of the uniform hash, as sent (never unsigned), and
-- Period is bigint milliseconds because periods above about 24.8 days do not fit an integer.
CREATE TABLE IF NOT EXISTS OrleansReminders
(
    ServiceId    text        NOT NULL,
    GrainId      text        NOT NULL,
    ReminderName text        NOT NULL,
    StartTime    timestamptz NOT NULL,
    Period       bigint      NOT NULL,
    GrainHash    integer     NOT NULL,
    Version      integer     NOT NULL,
    PRIMARY KEY (ServiceId, GrainId, ReminderName)
);

-- The hash-range reads scan (service, hash).
CREATE INDEX IF NOT EXISTS OrleansReminders_ServiceHash
    ON OrleansReminders (ServiceId, GrainHash);

INSERT INTO OrleansQuery (QueryKey, QueryText)
VALUES
-- Atomic insert-or-update on the primary key, so racing registrations of one reminder all
-- succeed and leave one row. Every upsert takes a fresh version from the sequence.
('UpsertReminderRowKey', $q$
INSERT INTO OrleansReminders AS r
    (ServiceId, GrainId, ReminderName, StartTime, Period, GrainHash, Version)
VALUES
    (@ServiceId, @GrainId, @ReminderName, @StartTime, @Period, @GrainHash,
     nextval('OrleansRemindersVersion'))
ON CONFLICT (ServiceId, GrainId, ReminderName) DO UPDATE
   SET StartTime = EXCLUDED.StartTime,
       Period = EXCLUDED.Period,
       GrainHash = EXCLUDED.GrainHash,
       Version = EXCLUDED.Version
RETURNING r.Version AS Version;
$q$),

-- Exactly one row, one boolean column: true only if the row existed with this version.
('DeleteReminderRowKey', $q$
WITH deleted AS (
    DELETE FROM OrleansReminders
     WHERE ServiceId = @ServiceId
       AND GrainId = @GrainId
       AND ReminderName = @ReminderName
       AND Version = @Version
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM deleted) AS Deleted;
$q$),

('ReadReminderRowKey', $q$
SELECT GrainId, ReminderName, StartTime, Period, Version
  FROM OrleansReminders
 WHERE ServiceId = @ServiceId
   AND GrainId = @GrainId
   AND ReminderName = @ReminderName;
$q$),

('ReadReminderRowsKey', $q$
SELECT GrainId, ReminderName, StartTime, Period, Version
  FROM OrleansReminders
 WHERE ServiceId = @ServiceId
   AND GrainId = @GrainId;
$q$),

-- Range that does not wrap in signed order: (BeginHash, EndHash].
('ReadRangeRows1Key', $q$
SELECT GrainId, ReminderName, StartTime, Period, Version
  FROM OrleansReminders
 WHERE ServiceId = @ServiceId
   AND GrainHash > @BeginHash
   AND GrainHash <= @EndHash;
$q$),

-- Range that wraps (BeginHash >= EndHash; equal bounds mean the whole ring): the hashes above
-- BeginHash plus the hashes up to EndHash, as two index range scans. The second piece also
-- requires GrainHash <= BeginHash so the pieces never overlap, whatever the bounds.
('ReadRangeRows2Key', $q$
SELECT GrainId, ReminderName, StartTime, Period, Version
  FROM OrleansReminders
 WHERE ServiceId = @ServiceId
   AND GrainHash > @BeginHash
UNION ALL
SELECT GrainId, ReminderName, StartTime, Period, Version
  FROM OrleansReminders
 WHERE ServiceId = @ServiceId
   AND GrainHash <= @EndHash
   AND GrainHash <= @BeginHash;
$q$),

-- Tests and tools only (TestOnlyClearTable): this service only.
('DeleteReminderRowsKey', $q$
DELETE FROM OrleansReminders
 WHERE ServiceId = @ServiceId;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
