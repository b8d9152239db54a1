-- The reset after each test, installed in the migrated template (tests/postgres/reset.py),
-- so that every run's database has it. All of it lives in the schema pytest_reset, which
-- the app never sees; the app's tables only get one trigger each.

CREATE SCHEMA pytest_reset;

-- One row per statement that wrote a table since the last reset: that table. Appending
-- never waits for another transaction (no unique key to check); unlogged: no WAL.
CREATE UNLOGGED TABLE pytest_reset.written (tab regclass NOT NULL);

-- Every table of the schema, parents before children (ordinal), and how to bring it back
-- to the state the migrations left it in: `empty` deletes the rows they did not leave;
-- for a table they left rows in (seeded), `restore` puts back the ones that are missing.
CREATE TABLE pytest_reset.tables (
    tab regclass PRIMARY KEY,
    ordinal int NOT NULL,
    empty text NOT NULL,
    restore text
);

-- Marks the table a statement wrote: by the app, a fixture, raw SQL or a cascade alike.
CREATE FUNCTION pytest_reset.mark() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO pytest_reset.written VALUES (TG_RELID);
    RETURN NULL;
END $$;

-- Puts a table under the reset: its trigger, and a copy of the rows it holds now (seeds).
CREATE FUNCTION pytest_reset.track(tab regclass, ordinal int) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    seeds text := format('pytest_reset.%I', 'seeds_' || ordinal);
    seeded boolean;
    columns text;
BEGIN
    EXECUTE format('CREATE TRIGGER pytest_reset_mark '
                   'AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s '
                   'FOR EACH STATEMENT EXECUTE FUNCTION pytest_reset.mark()', tab);
    EXECUTE format('SELECT EXISTS (SELECT FROM %s)', tab) INTO seeded;
    IF NOT seeded THEN
        INSERT INTO pytest_reset.tables VALUES (tab, ordinal, format('DELETE FROM %s', tab));
        RETURN;
    END IF;
    EXECUTE format('CREATE TABLE %s AS TABLE %s', seeds, tab);
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO columns
    FROM pg_attribute
    WHERE attrelid = tab AND attnum > 0 AND NOT attisdropped AND attgenerated = '';
    -- Whole rows compared as text: a seeded row a test changed goes, and comes back as it was.
    INSERT INTO pytest_reset.tables VALUES (
        tab,
        ordinal,
        format('DELETE FROM %1$s t WHERE t::text NOT IN (SELECT s::text FROM %2$s s)',
               tab, seeds),
        format('INSERT INTO %1$s (%3$s) OVERRIDING SYSTEM VALUE SELECT %3$s FROM %2$s s '
               'WHERE s::text NOT IN (SELECT t::text FROM %1$s t)', tab, seeds, columns)
    );
END $$;

-- Puts every table under the reset: `names`, parents before children.
CREATE FUNCTION pytest_reset.track_all(names text[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1 .. coalesce(array_length(names, 1), 0) LOOP
        PERFORM pytest_reset.track(quote_ident(names[i])::regclass, i);
    END LOOP;
    ANALYZE pytest_reset.tables;  -- the reset looks the tables written up by their key
END $$;

-- The reset: one call after each test. Nothing written: nothing done. Else each table
-- written is emptied (children first), and seeded ones restored (parents first).
CREATE FUNCTION pytest_reset.reset() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    written regclass[];
    statement text;
BEGIN
    IF NOT EXISTS (SELECT FROM pytest_reset.written) THEN
        RETURN;
    END IF;
    written := ARRAY(SELECT DISTINCT tab FROM pytest_reset.written);  -- a few: looked up by key
    IF EXISTS (SELECT FROM pytest_reset.tables WHERE tab = ANY (written) AND restore IS NOT NULL)
       AND (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        -- Seeds come back exactly, whatever foreign keys join them: none is checked, and
        -- no cascade or trigger fires, until this transaction ends (superusers only).
        SET LOCAL session_replication_role = replica;
    END IF;
    FOR statement IN
        SELECT empty FROM pytest_reset.tables WHERE tab = ANY (written) ORDER BY ordinal DESC
    LOOP
        EXECUTE statement;
    END LOOP;
    -- Without replica mode, those deletes may have cascaded to seeded tables not written yet.
    written := ARRAY(SELECT DISTINCT tab FROM pytest_reset.written);
    FOR statement IN
        SELECT restore FROM pytest_reset.tables
        WHERE tab = ANY (written) AND restore IS NOT NULL ORDER BY ordinal
    LOOP
        EXECUTE statement;
    END LOOP;
    -- Forget the marks (the reset's own too). Deleted marks stay until vacuumed, and the
    -- check above reads them: past 64 kB they go at once, unless someone is writing.
    IF pg_relation_size('pytest_reset.written') > 65536 THEN
        BEGIN
            LOCK TABLE pytest_reset.written IN ACCESS EXCLUSIVE MODE NOWAIT;
            TRUNCATE pytest_reset.written;
            RETURN;
        EXCEPTION WHEN lock_not_available THEN
            NULL;
        END;
    END IF;
    DELETE FROM pytest_reset.written;
END $$;
