package backup

import (
	"time"
)

// Object is one uploaded stream of a backup set.
type Object struct {
	Kind       string `json:"kind"` // "postgres" or "qdrant"
	Name       string `json:"name"` // database name, or "<collection>/<shard id>" for a Qdrant shard
	Key        string `json:"key"`  // S3 key
	Size       int64  `json:"size"` // bytes stored (ciphertext)
	SHA256     string `json:"sha256"`
	PlainBytes int64  `json:"plain_bytes"` // bytes of the dump before compression
	// Tables holds, for PostgreSQL, every table's row count and content checksum taken in the dump's snapshot.
	Tables []TableStat `json:"tables,omitempty"`
	// NoTableStats is true when the run skipped the table stats.
	NoTableStats bool `json:"no_table_stats,omitempty"`
	// Locale is, for PostgreSQL, the database's encoding and locale, which restore gives the new database.
	Locale *DatabaseLocale `json:"locale,omitempty"`
}

// DatabaseLocale is a database's encoding, LC_COLLATE and LC_CTYPE.
type DatabaseLocale struct {
	Encoding string `json:"encoding"`
	Collate  string `json:"collate"`
	Ctype    string `json:"ctype"`
}

// TableStat is a table's row count and an order-independent checksum of its rows.
type TableStat struct {
	Table    string `json:"table"`
	Rows     int64  `json:"rows"`
	Checksum string `json:"checksum"`
	// Method is how Checksum was computed (ChecksumCopy, ChecksumRecord or ChecksumText); verify recomputes
	// it the same way.
	Method string `json:"method,omitempty"`
}

// Manifest describes a complete backup set; it is written last, so a set without one is not a backup.
type Manifest struct {
	ID           string            `json:"id"`
	StartedAt    time.Time         `json:"started_at"`
	FinishedAt   time.Time         `json:"finished_at"`
	Format       string            `json:"format"`
	Encryption   string            `json:"encryption"`
	Compression  string            `json:"compression"`
	ToolVersions map[string]string `json:"tool_versions"`
	Objects      []Object          `json:"objects"`
	// Qdrant describes the set's Qdrant collections (config, checksum, shard objects).
	Qdrant []QdrantCollection `json:"qdrant,omitempty"`
}

const (
	manifestName = "manifest.json"
	formatV1     = "alfred-backup/1"
)
