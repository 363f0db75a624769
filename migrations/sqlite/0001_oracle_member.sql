-- An oracle member's own state (SQLite, the embedded default). One database per member.
-- Which member and which deployment this database belongs to: one row, checked on every open.
CREATE TABLE oracle_member (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    address TEXT NOT NULL,
    chain_id INTEGER NOT NULL,
    executor TEXT NOT NULL
);

-- Every report the member built, by its first epoch (the consensus slot): what it voted and
-- what became of it. The report is kept whole (its ABI encoding) so that the member can
-- execute it after a restart without rebuilding it from history the node may have pruned.
CREATE TABLE oracle_reports (
    first_epoch INTEGER PRIMARY KEY,
    last_epoch INTEGER NOT NULL CHECK (last_epoch >= first_epoch),
    ref_block INTEGER NOT NULL,
    report_hash TEXT NOT NULL,
    report BLOB NOT NULL,
    voted_tx TEXT,
    executed_block INTEGER,
    calls_sent INTEGER NOT NULL DEFAULT 0
);
