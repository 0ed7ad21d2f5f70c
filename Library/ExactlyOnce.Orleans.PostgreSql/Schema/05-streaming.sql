-- 05-streaming.sql
-- Durable stream queues for Microsoft.Orleans.Streaming.AdoNet (10.4.2-alpha.1): the live
-- message table, the dead-letter table, a per-queue eviction-control table, the functions behind
-- dequeue, confirm/release, fail and eviction, and the six streaming keys of the OrleansQuery
-- catalog.
-- Safe to run any number of times. Requires 01-catalog.sql.
--
-- Every "now" is the database clock (now(), the start of the single implicit transaction of
-- each provider call); the provider never sends a time. All times are timestamptz, so ExpiresOn
-- reaches the silo as UTC. Result types are strict: MessageId bigint, Dequeued integer, ids
-- text, Payload bytea.

-- Live messages. MessageId comes from an identity column: globally unique and increasing in
-- enqueue order, which is the delivery order the provider uses.
CREATE TABLE IF NOT EXISTS OrleansStreamMessage
(
    ServiceId  text        NOT NULL,
    ProviderId text        NOT NULL,
    QueueId    text        NOT NULL,
    MessageId  bigint      NOT NULL GENERATED ALWAYS AS IDENTITY,
    Dequeued   integer     NOT NULL DEFAULT 0,  -- the receipt: raised by each dequeue
    VisibleOn  timestamptz NOT NULL,
    ExpiresOn  timestamptz NOT NULL,
    CreatedOn  timestamptz NOT NULL,
    ModifiedOn timestamptz NOT NULL,
    Payload    bytea       NOT NULL,
    -- Serves dequeue (one queue, lowest MessageId first) and the per-message lookups.
    PRIMARY KEY (ServiceId, ProviderId, QueueId, MessageId)
);

-- Counters kept apart from the receipt (Dequeued rises with every prefetch, so it says nothing
-- about failures). Added by ALTER so that an existing database is upgraded in place.
--   Failures  - calls of FailStreamMessageKey (the delivery failed past the runtime's retries).
--   Abandoned - deliveries whose claimant went away without confirm, release or fail: the next
--               dequeue found the claim of another session still recorded after its lease ran out.
--   ClaimedBy - application_name of the session that holds the row in flight; NULL when nobody
--               does (new, released or failed). While it is set, ModifiedOn is the claim time.
--   Isolated  - the row has been handed out as a suspect (Abandoned >= 3), in a probe: a group of
--               suspects only, with nothing else of the queue in flight.
--   Probed    - abandons while in a probe. The next probe of the row holds at most 8 >> Probed
--               suspects (8, 4, 2, 1, 1): each abandon halves the group the row is in.
ALTER TABLE OrleansStreamMessage ADD COLUMN IF NOT EXISTS Failures  integer NOT NULL DEFAULT 0;
ALTER TABLE OrleansStreamMessage ADD COLUMN IF NOT EXISTS Abandoned integer NOT NULL DEFAULT 0;
ALTER TABLE OrleansStreamMessage ADD COLUMN IF NOT EXISTS ClaimedBy text    NULL;
ALTER TABLE OrleansStreamMessage ADD COLUMN IF NOT EXISTS Isolated  boolean NOT NULL DEFAULT false;
ALTER TABLE OrleansStreamMessage ADD COLUMN IF NOT EXISTS Probed    integer NOT NULL DEFAULT 0;

-- Serves the check every dequeue makes: is an isolated suspect of this queue in flight?
CREATE INDEX IF NOT EXISTS OrleansStreamMessage_Isolated
    ON OrleansStreamMessage (ServiceId, ProviderId, QueueId, VisibleOn) WHERE Isolated;

-- Messages that expired or killed their silos. Orleans never reads this table; it is kept for
-- operators (diagnosis, replay, discard), with the same key as the live table. A dead letter may
-- block its producer's later messages, so nothing purges it: it leaves by replay or discard, and
-- RemoveOn is always 'infinity'.
CREATE TABLE IF NOT EXISTS OrleansStreamDeadLetter
(
    ServiceId  text        NOT NULL,
    ProviderId text        NOT NULL,
    QueueId    text        NOT NULL,
    MessageId  bigint      NOT NULL,
    Dequeued   integer     NOT NULL,
    VisibleOn  timestamptz NOT NULL,
    ExpiresOn  timestamptz NOT NULL,
    CreatedOn  timestamptz NOT NULL,
    ModifiedOn timestamptz NOT NULL,
    DeadOn     timestamptz NOT NULL,
    RemoveOn   timestamptz NOT NULL,
    Payload    bytea       NULL,
    PRIMARY KEY (ServiceId, ProviderId, QueueId, MessageId)
);

-- The live row's counters and last claimant, and why the row was moved here.
ALTER TABLE OrleansStreamDeadLetter ADD COLUMN IF NOT EXISTS Failures  integer NOT NULL DEFAULT 0;
ALTER TABLE OrleansStreamDeadLetter ADD COLUMN IF NOT EXISTS Abandoned integer NOT NULL DEFAULT 0;
ALTER TABLE OrleansStreamDeadLetter ADD COLUMN IF NOT EXISTS ClaimedBy text    NULL;
ALTER TABLE OrleansStreamDeadLetter ADD COLUMN IF NOT EXISTS Isolated  boolean NOT NULL DEFAULT false;
ALTER TABLE OrleansStreamDeadLetter ADD COLUMN IF NOT EXISTS Probed    integer NOT NULL DEFAULT 0;
ALTER TABLE OrleansStreamDeadLetter ADD COLUMN IF NOT EXISTS Reason    text    NULL;

-- Dead letters are no longer purged: the RemoveOn index served the purge, and letters written
-- before this version keep their place until replayed or discarded.
DROP INDEX IF EXISTS OrleansStreamDeadLetter_RemoveOn;
UPDATE OrleansStreamDeadLetter SET RemoveOn = 'infinity' WHERE RemoveOn <> 'infinity';

-- One row per queue: when its next housekeeping pass is due. The provider never calls the evict
-- keys, so dequeue does the housekeeping, and this row lets exactly one caller per
-- EvictionInterval win it.
CREATE TABLE IF NOT EXISTS OrleansStreamEviction
(
    ServiceId      text        NOT NULL,
    ProviderId     text        NOT NULL,
    QueueId        text        NOT NULL,
    NextEvictionOn timestamptz NOT NULL,
    PRIMARY KEY (ServiceId, ProviderId, QueueId)
);

-- Moves the given live messages of one queue to the dead letters with p_reason, adding
-- p_abandoned_extra to their Abandoned count and p_probed_extra to Probed (1 when this move is
-- itself an abandonment), and returns how many moved. The caller has locked the rows.
CREATE OR REPLACE FUNCTION orleans_stream_bury(
    p_service_id      text,
    p_provider_id     text,
    p_queue_id        text,
    p_message_ids     bigint[],
    p_abandoned_extra integer,
    p_probed_extra    integer,
    p_reason          text)
RETURNS integer
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_now   timestamptz := now();
    v_count integer;
BEGIN
    WITH moved AS (
        DELETE FROM OrleansStreamMessage AS m
         WHERE m.ServiceId = p_service_id
           AND m.ProviderId = p_provider_id
           AND m.QueueId = p_queue_id
           AND m.MessageId = ANY (p_message_ids)
        RETURNING m.ServiceId, m.ProviderId, m.QueueId, m.MessageId, m.Dequeued, m.VisibleOn,
                  m.ExpiresOn, m.CreatedOn, m.ModifiedOn, m.Payload, m.Failures,
                  m.Abandoned + p_abandoned_extra AS Abandoned, m.ClaimedBy, m.Isolated,
                  m.Probed + p_probed_extra AS Probed
    )
    INSERT INTO OrleansStreamDeadLetter AS l
        (ServiceId, ProviderId, QueueId, MessageId, Dequeued, VisibleOn, ExpiresOn, CreatedOn,
         ModifiedOn, DeadOn, RemoveOn, Payload, Failures, Abandoned, ClaimedBy, Isolated, Probed,
         Reason)
    SELECT ServiceId, ProviderId, QueueId, MessageId, Dequeued, VisibleOn, ExpiresOn, CreatedOn,
           ModifiedOn, v_now, 'infinity', Payload, Failures, Abandoned, ClaimedBy, Isolated,
           Probed, p_reason
      FROM moved
    -- Ids are unique, so a conflict only follows a manual replay that reused an id: keep the
    -- latest copy rather than fail and leave the message live.
    ON CONFLICT (ServiceId, ProviderId, QueueId, MessageId) DO UPDATE
       SET Dequeued = EXCLUDED.Dequeued, VisibleOn = EXCLUDED.VisibleOn,
           ExpiresOn = EXCLUDED.ExpiresOn, CreatedOn = EXCLUDED.CreatedOn,
           ModifiedOn = EXCLUDED.ModifiedOn, DeadOn = EXCLUDED.DeadOn,
           RemoveOn = EXCLUDED.RemoveOn, Payload = EXCLUDED.Payload,
           Failures = EXCLUDED.Failures, Abandoned = EXCLUDED.Abandoned,
           ClaimedBy = EXCLUDED.ClaimedBy, Isolated = EXCLUDED.Isolated,
           Probed = EXCLUDED.Probed, Reason = EXCLUDED.Reason;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END
$fn$;

-- Moves up to p_max_count expired messages of one queue to the dead letters (Reason 'expired')
-- and returns how many. Only rows visible again are moved, so an in-flight delivery may still
-- finish. Rows locked by a concurrent dequeue or confirm are skipped, not waited on.
-- p_max_attempts and p_removal_timeout are accepted (the provider binds them) and ignored:
-- nothing is dead-lettered for its number of deliveries or failures, and dead letters are kept.
CREATE OR REPLACE FUNCTION orleans_stream_evict_messages(
    p_service_id      text,
    p_provider_id     text,
    p_queue_id        text,
    p_max_count       integer,
    p_max_attempts    integer,
    p_removal_timeout integer)
RETURNS integer
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_now timestamptz := now();
    v_ids bigint[];
BEGIN
    SELECT coalesce(array_agg(d.MessageId), '{}')
      INTO v_ids
      FROM (
            SELECT m.MessageId
              FROM OrleansStreamMessage AS m
             WHERE m.ServiceId = p_service_id
               AND m.ProviderId = p_provider_id
               AND m.QueueId = p_queue_id
               AND m.VisibleOn <= v_now
               AND m.ExpiresOn <= v_now
             ORDER BY m.MessageId
             LIMIT GREATEST(p_max_count, 0)
               FOR UPDATE SKIP LOCKED
           ) AS d;
    RETURN orleans_stream_bury(p_service_id, p_provider_id, p_queue_id, v_ids, 0, 0, 'expired');
END
$fn$;

-- Dead letters are never purged automatically any more (a dead letter may block its producer's
-- later messages; it leaves by replay or discard). Kept, as a no-op returning 0, because the
-- EvictStreamDeadLettersKey text calls it.
CREATE OR REPLACE FUNCTION orleans_stream_evict_dead_letters(
    p_service_id  text,
    p_provider_id text,
    p_queue_id    text,
    p_max_count   integer)
RETURNS integer
LANGUAGE plpgsql
AS $fn$
BEGIN
    RETURN 0;
END
$fn$;

-- Lease renewal, part of the housekeeping pass: the rows of one queue that p_claimant holds and
-- whose lease ends within half a lease get a new lease. A live silo may keep rows in its cache
-- longer than the visibility timeout (one stuck stream keeps the cache's oldest bucket from being
-- purged and confirmed); without renewal they would expire and be dequeued again. A dead or
-- frozen silo stops polling, so its leases run out.
-- The lease is the visibility timeout, or three eviction intervals if that is longer, so that the
-- next pass always comes before a renewed lease ends. Not renewed: rows past their ExpiresOn (they
-- go to the dead letters once their lease ends), and claims older than 20 visibility timeouts (a
-- row the silo lost track of, say after a failed confirm, is then dequeued again by the same silo
-- rather than held until it expires). Locked rows are skipped; the next pass renews them.
CREATE OR REPLACE FUNCTION orleans_stream_renew_leases(
    p_service_id         text,
    p_provider_id        text,
    p_queue_id           text,
    p_claimant           text,
    p_visibility_timeout integer,
    p_eviction_interval  integer)
RETURNS integer
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_now   timestamptz := now();
    v_lease interval := GREATEST(p_visibility_timeout, 3 * p_eviction_interval) * interval '1 second';
    v_count integer;
BEGIN
    IF p_claimant IS NULL OR p_claimant = '' THEN
        RETURN 0;  -- an anonymous claimant cannot tell its rows from a dead one's
    END IF;
    -- MATERIALIZED: the rows to renew are found and locked once. As an IN (subquery), the planner
    -- took a nested semi join that ran the locking subquery again for every row of the queue (one
    -- renewal of a 228-row queue read 45,000 buffers; 339 ms a call under a backlog).
    WITH due AS MATERIALIZED (
        SELECT r.MessageId
          FROM OrleansStreamMessage AS r
         WHERE r.ServiceId = p_service_id
           AND r.ProviderId = p_provider_id
           AND r.QueueId = p_queue_id
           AND r.ClaimedBy = p_claimant
           AND r.VisibleOn > v_now
           AND r.VisibleOn <= v_now + v_lease / 2
           AND r.ExpiresOn > v_now
           AND r.ModifiedOn > v_now - 20 * p_visibility_timeout * interval '1 second'
           FOR UPDATE SKIP LOCKED)
    UPDATE OrleansStreamMessage AS m
       SET VisibleOn = v_now + v_lease
      FROM due
     WHERE m.ServiceId = p_service_id
       AND m.ProviderId = p_provider_id
       AND m.QueueId = p_queue_id
       AND m.MessageId = due.MessageId;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END
$fn$;

-- GetStreamMessagesKey: housekeeping (at most once per EvictionInterval per queue), then claim
-- available messages, lowest MessageId first, and return them with their new Dequeued (the
-- receipt) and VisibleOn. SKIP LOCKED keeps two concurrent dequeuers of one queue from ever
-- receiving the same message.
--
-- The claimant is the calling session's application_name (each silo sets a unique one on its
-- stream connection string). A picked row whose previous claim is still recorded was abandoned:
-- its claimant neither confirmed, released nor failed it before the lease ran out. That counts
-- (Abandoned + 1) only when the claimant changed or either is unknown (''): the same live silo
-- re-reading its own expired row only had a slow cache.
--
-- Suspects (Abandoned >= 3, counting this pick) are handed out in probes, since a message that
-- kills the silo delivering it takes the other rows of the batch down with it:
--   - a probe is a group of consecutive suspects only, marked Isolated; while one is in flight,
--     nothing else of the queue is returned, so a silo that dies with it abandons only the probe;
--   - a suspect's probe holds at most 8 >> Probed rows: 8 at first, and every abandon while in a
--     probe (Probed + 1) halves the group, so a killer is cornered in 3 deaths (8, 4, 2, 1) while
--     the innocent rows of its groups are delivered and confirmed on the way;
--   - if the lowest available row is no suspect, only the rows below the first suspect are
--     returned;
--   - a row abandoned in a probe 5 times (the last 2 while delivered alone; 8 abandons in all) is
--     moved to the dead letters ('killed its silo'). An innocent row gets there only if 5 probes
--     it was in were each cut short by a silo death that had nothing to do with it, where one
--     suspect delivered alone twice was buried by 2 such coincidences (soak 2: 2 rows of 50,000
--     under kills every 15 s).
-- Nothing is excluded or dead-lettered for its deliveries or failures: p_max_attempts is
-- accepted (the provider binds it) and ignored, as is p_removal_timeout (dead letters are kept).
CREATE OR REPLACE FUNCTION orleans_stream_dequeue(
    p_service_id          text,
    p_provider_id         text,
    p_queue_id            text,
    p_max_count           integer,
    p_max_attempts        integer,
    p_visibility_timeout  integer,
    p_removal_timeout     integer,
    p_eviction_interval   integer,
    p_eviction_batch_size integer)
RETURNS TABLE (
    o_service_id  text,
    o_provider_id text,
    o_queue_id    text,
    o_message_id  bigint,
    o_dequeued    integer,
    o_visible_on  timestamptz,
    o_expires_on  timestamptz,
    o_created_on  timestamptz,
    o_modified_on timestamptz,
    o_payload     bytea)
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_now     timestamptz := now();
    v_me      text := coalesce(current_setting('application_name', true), '');
    v_evict   boolean := false;
    v_ids     bigint[] := '{}';
    v_group   integer := 0;  -- size of the probe being handed out; 0: no suspect in this batch
    v_probed  integer;
    v_suspect boolean;
    r         record;
BEGIN
    -- Win the housekeeping pass for this interval, or skip it. A plain read first, so the
    -- frequent polls between passes write nothing; a row another caller holds is skipped.
    PERFORM 1
       FROM OrleansStreamEviction AS e
      WHERE e.ServiceId = p_service_id AND e.ProviderId = p_provider_id
        AND e.QueueId = p_queue_id;
    IF NOT FOUND THEN
        INSERT INTO OrleansStreamEviction (ServiceId, ProviderId, QueueId, NextEvictionOn)
        VALUES (p_service_id, p_provider_id, p_queue_id,
                v_now + p_eviction_interval * interval '1 second')
        ON CONFLICT (ServiceId, ProviderId, QueueId) DO NOTHING;
        v_evict := FOUND;
    ELSE
        PERFORM 1
           FROM OrleansStreamEviction AS e
          WHERE e.ServiceId = p_service_id AND e.ProviderId = p_provider_id
            AND e.QueueId = p_queue_id AND e.NextEvictionOn <= v_now
            FOR UPDATE SKIP LOCKED;
        IF FOUND THEN
            UPDATE OrleansStreamEviction AS e
               SET NextEvictionOn = v_now + p_eviction_interval * interval '1 second'
             WHERE e.ServiceId = p_service_id AND e.ProviderId = p_provider_id
               AND e.QueueId = p_queue_id;
            v_evict := true;
        END IF;
    END IF;

    IF v_evict THEN
        PERFORM orleans_stream_evict_messages(p_service_id, p_provider_id, p_queue_id,
                                              p_eviction_batch_size, p_max_attempts,
                                              p_removal_timeout);
        PERFORM orleans_stream_renew_leases(p_service_id, p_provider_id, p_queue_id, v_me,
                                            p_visibility_timeout, p_eviction_interval);
    END IF;

    -- A probe in flight holds the whole queue back.
    PERFORM 1
       FROM OrleansStreamMessage AS m
      WHERE m.ServiceId = p_service_id AND m.ProviderId = p_provider_id
        AND m.QueueId = p_queue_id AND m.Isolated
        AND m.ClaimedBy IS NOT NULL AND m.VisibleOn > v_now;
    IF FOUND THEN
        RETURN;
    END IF;

    FOR r IN
        SELECT m.MessageId, m.Abandoned, m.Isolated, m.Probed,
               (m.ClaimedBy IS NOT NULL AND (v_me = '' OR m.ClaimedBy <> v_me)) AS abandoned_now
          FROM OrleansStreamMessage AS m
         WHERE m.ServiceId = p_service_id
           AND m.ProviderId = p_provider_id
           AND m.QueueId = p_queue_id
           AND m.VisibleOn <= v_now
           AND m.ExpiresOn > v_now
         ORDER BY m.MessageId
         LIMIT GREATEST(p_max_count, 0)
           FOR UPDATE SKIP LOCKED
    LOOP
        v_probed := r.Probed + (r.Isolated AND r.abandoned_now)::integer;
        IF v_probed >= 5 THEN
            PERFORM orleans_stream_bury(
                p_service_id, p_provider_id, p_queue_id, ARRAY[r.MessageId], 1, 1,
                format('killed its silo: abandoned %s times, the last %s in suspect groups of 8, 4, 2, 1 and 1',
                       r.Abandoned + 1, v_probed));
            CONTINUE;
        END IF;
        v_suspect := r.Abandoned + r.abandoned_now::integer >= 3;
        IF v_group = 0 THEN
            IF v_suspect THEN
                EXIT WHEN cardinality(v_ids) > 0;  -- the rows below the suspect go first
                v_group := GREATEST(1, 8 >> v_probed);
            END IF;
        ELSIF NOT v_suspect OR cardinality(v_ids) >= v_group THEN
            EXIT;
        END IF;
        v_ids := v_ids || r.MessageId;
    END LOOP;

    IF cardinality(v_ids) = 0 THEN
        RETURN;
    END IF;

    -- The SET expressions read the row as it was, so Abandoned repeats the test above.
    RETURN QUERY
    UPDATE OrleansStreamMessage AS m
       SET Dequeued = m.Dequeued + 1,
           Abandoned = m.Abandoned
                       + CASE WHEN m.ClaimedBy IS NOT NULL AND (v_me = '' OR m.ClaimedBy <> v_me)
                              THEN 1 ELSE 0 END,
           Probed = m.Probed
                    + CASE WHEN m.Isolated AND m.ClaimedBy IS NOT NULL
                                AND (v_me = '' OR m.ClaimedBy <> v_me)
                           THEN 1 ELSE 0 END,
           Isolated = m.Isolated OR v_group > 0,
           ClaimedBy = v_me,
           VisibleOn = v_now + p_visibility_timeout * interval '1 second',
           ModifiedOn = v_now
     WHERE m.ServiceId = p_service_id
       AND m.ProviderId = p_provider_id
       AND m.QueueId = p_queue_id
       AND m.MessageId = ANY (v_ids)
    RETURNING m.ServiceId, m.ProviderId, m.QueueId, m.MessageId, m.Dequeued, m.VisibleOn,
              m.ExpiresOn, m.CreatedOn, m.ModifiedOn, m.Payload;
END
$fn$;

-- Parses the Items text of ConfirmStreamMessagesKey, "<MessageId>:<receipt>|...", into rows.
-- The provider formats the numbers with the current culture of the silo, so this is lenient:
-- any minus-like sign (ASCII hyphen-minus, U+2212 minus, dashes, small and full-width
-- hyphen-minus) makes a receipt negative, and every other non-digit (U+200E, U+061C and other
-- marks, spaces) is dropped. Malformed entries, out-of-range numbers and receipt 0 (which no
-- dequeue ever hands out) are skipped rather than raised, so one bad entry cannot fail the call.
CREATE OR REPLACE FUNCTION orleans_stream_parse_items(p_items text)
RETURNS TABLE (message_id bigint, receipt integer)
LANGUAGE sql
IMMUTABLE
AS $fn$
    SELECT x.message_id,
           CASE WHEN x.negative THEN -x.receipt_abs ELSE x.receipt_abs END
      FROM (
            SELECT CASE
                       WHEN c.id_digits !~ '^[0-9]{1,19}$' THEN NULL
                       WHEN c.id_digits::numeric > 9223372036854775807 THEN NULL
                       ELSE c.id_digits::bigint
                   END AS message_id,
                   CASE
                       WHEN c.receipt_digits !~ '^[0-9]{1,10}$' THEN NULL
                       WHEN c.receipt_digits::numeric > 2147483647 THEN NULL
                       ELSE c.receipt_digits::integer
                   END AS receipt_abs,
                   c.negative
              FROM (
                    SELECT regexp_replace(split_part(e.entry, ':', 1), '[^0-9]', '', 'g')
                               AS id_digits,
                           regexp_replace(split_part(e.entry, ':', 2), '[^0-9]', '', 'g')
                               AS receipt_digits,
                           split_part(e.entry, ':', 2)
                               ~ E'[-\\u2010\\u2011\\u2012\\u2013\\u2212\\uFE63\\uFF0D]' AS negative
                      FROM unnest(string_to_array(p_items, '|')) AS e(entry)
                     WHERE strpos(e.entry, ':') > 0
                   ) AS c
           ) AS x
     WHERE x.message_id IS NOT NULL
       AND x.receipt_abs > 0;
$fn$;

-- ConfirmStreamMessagesKey: a positive receipt confirms (deletes) the message, a negative one
-- releases it (receiver shutdown or queue hand-off: VisibleOn = now, ClaimedBy = NULL, no
-- counter raised, since a release is neither a failure nor an abandonment). Either only if the
-- stored Dequeued equals the receipt: a stale receipt means the message was dequeued again
-- elsewhere, and the new holder owns it. Returns one row per message actually confirmed or
-- released.
CREATE OR REPLACE FUNCTION orleans_stream_confirm(
    p_service_id  text,
    p_provider_id text,
    p_queue_id    text,
    p_items       text)
RETURNS TABLE (
    o_service_id  text,
    o_provider_id text,
    o_queue_id    text,
    o_message_id  bigint)
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_now timestamptz := now();
    v_me  text := coalesce(current_setting('application_name', true), '');
    v_oldest_confirmed timestamptz;
    v_ids      bigint[];
    v_receipts integer[];
BEGIN
    -- Parsed once: used inline, the parser's expressions were evaluated again in every filter and
    -- index condition of each statement below (about 50 ms for a 409-item confirm).
    SELECT coalesce(array_agg(i.message_id), '{}'), coalesce(array_agg(i.receipt), '{}')
      INTO v_ids, v_receipts
      FROM orleans_stream_parse_items(p_items) AS i;

    -- The claim time of the oldest row this call confirms (for the lost confirms below).
    SELECT min(m.ModifiedOn)
      INTO v_oldest_confirmed
      FROM OrleansStreamMessage AS m
      JOIN unnest(v_ids, v_receipts) AS i(message_id, receipt) ON m.MessageId = i.message_id
     WHERE m.ServiceId = p_service_id
       AND m.ProviderId = p_provider_id
       AND m.QueueId = p_queue_id
       AND i.receipt > 0
       AND m.Dequeued = i.receipt
       AND m.ClaimedBy = v_me;

    RETURN QUERY
    WITH items AS (
        SELECT i.message_id, i.receipt
          FROM unnest(v_ids, v_receipts) AS i(message_id, receipt)
    ),
    confirmed AS (
        DELETE FROM OrleansStreamMessage AS m
         USING items AS i
         WHERE m.ServiceId = p_service_id
           AND m.ProviderId = p_provider_id
           AND m.QueueId = p_queue_id
           AND m.MessageId = i.message_id
           AND i.receipt > 0
           AND m.Dequeued = i.receipt
        RETURNING m.ServiceId, m.ProviderId, m.QueueId, m.MessageId
    ),
    released AS (
        UPDATE OrleansStreamMessage AS m
           SET VisibleOn = v_now,
               ClaimedBy = NULL,
               ModifiedOn = v_now
          FROM items AS i
         WHERE m.ServiceId = p_service_id
           AND m.ProviderId = p_provider_id
           AND m.QueueId = p_queue_id
           AND m.MessageId = i.message_id
           AND i.receipt < 0
           AND m.Dequeued = -i.receipt
        RETURNING m.ServiceId, m.ProviderId, m.QueueId, m.MessageId
    )
    SELECT c.ServiceId, c.ProviderId, c.QueueId, c.MessageId FROM confirmed AS c
    UNION ALL
    SELECT r.ServiceId, r.ProviderId, r.QueueId, r.MessageId FROM released AS r;

    -- Lost confirms. An agent confirms whole cache buckets, oldest first, so once it confirms rows
    -- it claimed at time T, every row it claimed before T has left its cache: if one is still
    -- claimed here, its confirm was lost (the provider ignores a failed confirm, e.g. during a
    -- database restart) and the live silo would renew its lease for up to 20 visibility timeouts.
    -- Such rows are released, to be delivered again at once (dedup absorbs the repeat).
    UPDATE OrleansStreamMessage AS m
       SET VisibleOn = v_now,
           ClaimedBy = NULL,
           ModifiedOn = v_now
     WHERE m.ServiceId = p_service_id
       AND m.ProviderId = p_provider_id
       AND m.QueueId = p_queue_id
       AND m.ClaimedBy = v_me
       AND v_me <> ''
       AND m.ModifiedOn < v_oldest_confirmed;
END
$fn$;

-- FailStreamMessageKey: the delivery failed past the runtime's retries. The grains retry and
-- dead-letter their own handler failures, so what reaches the provider is an infrastructure
-- failure, and it never dead-letters the message: Failures + 1, the claim is dropped
-- (ClaimedBy = NULL, so the next dequeue is no abandonment), and the message becomes visible
-- again after a back-off of 2^Failures seconds, at most 300 (2, 4, 8, ... 256, 300, 300, ...).
-- No receipt check (the provider sends none); but a message another live session holds (its
-- lease not yet run out) is left to that holder. A message that is already gone is ignored.
-- p_max_attempts and p_removal_timeout are accepted (the provider binds them) and ignored.
CREATE OR REPLACE FUNCTION orleans_stream_fail(
    p_service_id      text,
    p_provider_id     text,
    p_queue_id        text,
    p_message_id      bigint,
    p_max_attempts    integer,
    p_removal_timeout integer)
RETURNS void
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_now timestamptz := now();
    v_me  text := coalesce(current_setting('application_name', true), '');
BEGIN
    UPDATE OrleansStreamMessage AS m
       SET Failures = m.Failures + 1,
           ClaimedBy = NULL,
           VisibleOn = v_now + make_interval(secs => LEAST(300, 2 ^ LEAST(m.Failures + 1, 16))),
           ModifiedOn = v_now
     WHERE m.ServiceId = p_service_id
       AND m.ProviderId = p_provider_id
       AND m.QueueId = p_queue_id
       AND m.MessageId = p_message_id
       AND (m.ClaimedBy IS NULL OR m.ClaimedBy = v_me OR v_me = '' OR m.VisibleOn <= v_now);
END
$fn$;

INSERT INTO OrleansQuery (QueryKey, QueryText)
VALUES
-- One statement, exactly one row back.
('QueueStreamMessageKey', $q$
INSERT INTO OrleansStreamMessage
    (ServiceId, ProviderId, QueueId, Dequeued, VisibleOn, ExpiresOn, CreatedOn, ModifiedOn,
     Payload)
VALUES
    (@ServiceId, @ProviderId, @QueueId, 0, now(), now() + @ExpiryTimeout * interval '1 second',
     now(), now(), @Payload)
RETURNING ServiceId, ProviderId, QueueId, MessageId;
$q$),

('GetStreamMessagesKey', $q$
SELECT o_service_id AS ServiceId, o_provider_id AS ProviderId, o_queue_id AS QueueId,
       o_message_id AS MessageId, o_dequeued AS Dequeued, o_visible_on AS VisibleOn,
       o_expires_on AS ExpiresOn, o_created_on AS CreatedOn, o_modified_on AS ModifiedOn,
       o_payload AS Payload
  FROM orleans_stream_dequeue(@ServiceId, @ProviderId, @QueueId, @MaxCount, @MaxAttempts,
                              @VisibilityTimeout, @RemovalTimeout, @EvictionInterval,
                              @EvictionBatchSize);
$q$),

('ConfirmStreamMessagesKey', $q$
SELECT o_service_id AS ServiceId, o_provider_id AS ProviderId, o_queue_id AS QueueId,
       o_message_id AS MessageId
  FROM orleans_stream_confirm(@ServiceId, @ProviderId, @QueueId, @Items);
$q$),

('FailStreamMessageKey', $q$
SELECT orleans_stream_fail(@ServiceId, @ProviderId, @QueueId, @MessageId, @MaxAttempts,
                           @RemovalTimeout);
$q$),

-- Not run by 10.4.2-alpha.1 (dequeue does the housekeeping) but must exist. They use only the
-- parameter names the provider would bind; the batch size is MaxCount.
('EvictStreamMessagesKey', $q$
SELECT orleans_stream_evict_messages(@ServiceId, @ProviderId, @QueueId, @MaxCount,
                                     @MaxAttempts, @RemovalTimeout) AS Evicted;
$q$),

('EvictStreamDeadLettersKey', $q$
SELECT orleans_stream_evict_dead_letters(@ServiceId, @ProviderId, @QueueId, @MaxCount)
       AS Evicted;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
