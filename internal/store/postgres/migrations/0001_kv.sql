-- The whole store: one row per key. COLLATE "C" makes keys compare bytewise,
-- the order of the embedded bbolt store, whatever the database's locale.
CREATE TABLE shortfuse_kv (
    bucket text COLLATE "C" NOT NULL
        CHECK (bucket ~ '^[a-z0-9_.-]{1,64}$'),
    key    text COLLATE "C" NOT NULL
        CHECK (key <> '' AND octet_length(key) <= 1024),
    value  bytea NOT NULL,
    PRIMARY KEY (bucket, key)
);

-- Values are mostly ciphertext, which does not compress: store them out of
-- line when large but never try to compress them.
ALTER TABLE shortfuse_kv ALTER COLUMN value SET STORAGE EXTERNAL;
