package backup

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Retention keeps the KeepLast newest good sets and drops good sets older than MaxAge; zero values
// disable that rule. The newest good set is never deleted.
type Retention struct {
	KeepLast int
	MaxAge   time.Duration
}

// PruneResult lists what a prune deleted.
type PruneResult struct {
	Deleted    []string // good sets removed by retention
	Incomplete []string // sets without a manifest removed
	Aborted    int      // multipart uploads aborted
}

// Prune applies r and removes incomplete sets (those without a manifest) and unfinished multipart
// uploads, except those of set current (the run in progress, if any).
func (e *Engine) Prune(ctx context.Context, r Retention, current string) (*PruneResult, error) {
	sets, err := e.Store.Sets(ctx)
	if err != nil {
		return nil, err
	}
	res := &PruneResult{}
	if res.Aborted, err = e.Store.abortStaleUploads(ctx, current); err != nil {
		return res, err
	}
	var good []SetInfo
	for _, s := range sets {
		switch {
		case s.Manifest != nil:
			good = append(good, s)
		case s.ID != current:
			if err := e.Store.deleteKeys(ctx, s.Keys); err != nil {
				return res, fmt.Errorf("deleting incomplete set %s: %w", s.ID, err)
			}
			res.Incomplete = append(res.Incomplete, s.ID)
		}
	}
	// Oldest first by the time each run started: set IDs carry the second only (then a random suffix), so
	// two runs in one second would otherwise sort by chance and the newest could be pruned.
	sort.SliceStable(good, func(i, j int) bool {
		a, b := good[i].Manifest.StartedAt, good[j].Manifest.StartedAt
		if !a.Equal(b) {
			return a.Before(b)
		}
		return good[i].ID < good[j].ID
	})
	now := e.now()
	// good is oldest first; index len-1 is the newest and always stays.
	for i, s := range good {
		if i == len(good)-1 {
			break
		}
		tooMany := r.KeepLast > 0 && len(good)-i > r.KeepLast
		tooOld := r.MaxAge > 0 && now.Sub(s.Manifest.FinishedAt) > r.MaxAge
		if !tooMany && !tooOld {
			continue
		}
		// The manifest goes first, alone: a prune cut short leaves an incomplete set (never listed as good,
		// removed by the next run), not a manifest naming deleted objects.
		manifest, objects := splitManifest(s.Keys)
		if err := e.Store.deleteKeys(ctx, manifest); err != nil {
			return res, fmt.Errorf("deleting the manifest of set %s: %w", s.ID, err)
		}
		e.checkpoint(CheckpointPruneManifestGone)
		if err := e.Store.deleteKeys(ctx, objects); err != nil {
			return res, fmt.Errorf("deleting set %s (its manifest is gone: it is listed as incomplete): %w", s.ID, err)
		}
		res.Deleted = append(res.Deleted, s.ID)
	}
	return res, nil
}

// splitManifest separates a set's manifest key from its other keys.
func splitManifest(keys []string) (manifest, objects []string) {
	for _, k := range keys {
		if strings.HasSuffix(k, "/"+manifestName) {
			manifest = append(manifest, k)
		} else {
			objects = append(objects, k)
		}
	}
	return manifest, objects
}
