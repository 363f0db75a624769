-- An oracle member's own state (PostgreSQL, production). One database (or schema) per member.
-- Which member and which deployment this database belongs to: one row, checked on every open.
CREATE TABLE oracle_member (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    address TEXT NOT NULL,
    chain_id BIGINT NOT NULL,
    executor TEXT NOT NULL
);

-- Every report the member built, by its first epoch (the consensus slot): what it voted and
-- what became of it. The report is kept whole (its ABI encoding) so that the member can
-- execute it after a restart without rebuilding it from history the node may have pruned.
CREATE TABLE oracle_reports (
    first_epoch BIGINT PRIMARY KEY,
    last_epoch BIGINT NOT NULL CHECK (last_epoch >= first_epoch),
    ref_block BIGINT NOT NULL,
    report_hash TEXT NOT NULL,
    report BYTEA NOT NULL,
    voted_tx TEXT,
    executed_block BIGINT,
    calls_sent INTEGER NOT NULL DEFAULT 0
);
