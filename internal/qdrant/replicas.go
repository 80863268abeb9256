package qdrant

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	pb "github.com/qdrant/go-client/qdrant"
)

type replicaInfo struct {
	Peer  uint64
	State pb.ReplicaState
}

type shardInfo struct {
	ID       uint32
	Replicas []replicaInfo
	Busy     bool // a transfer of this shard is running
}

// shardsOf gathers every shard's replicas from CollectionClusterInfo (local shards of the answering peer
// plus the remote ones), sorted by shard id and peer id.
func shardsOf(info *pb.CollectionClusterInfoResponse) []shardInfo {
	by := map[uint32]*shardInfo{}
	get := func(id uint32) *shardInfo {
		if by[id] == nil {
			by[id] = &shardInfo{ID: id}
		}
		return by[id]
	}
	for _, l := range info.GetLocalShards() {
		s := get(l.GetShardId())
		s.Replicas = append(s.Replicas, replicaInfo{Peer: info.GetPeerId(), State: l.GetState()})
	}
	for _, r := range info.GetRemoteShards() {
		s := get(r.GetShardId())
		s.Replicas = append(s.Replicas, replicaInfo{Peer: r.GetPeerId(), State: r.GetState()})
	}
	for _, t := range info.GetShardTransfers() {
		get(t.GetShardId()).Busy = true
	}
	out := make([]shardInfo, 0, len(by))
	for _, s := range by {
		sort.Slice(s.Replicas, func(i, j int) bool { return s.Replicas[i].Peer < s.Replicas[j].Peer })
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func activeCount(s shardInfo) int {
	n := 0
	for _, r := range s.Replicas {
		if r.State == pb.ReplicaState_Active {
			n++
		}
	}
	return n
}

// effectiveReplication is the replication the cluster really has, as Read reports it in
// `replication_factor`: the configured factor when every shard has exactly that many replicas, all Active,
// and no transfer runs; otherwise the fewest Active replicas of a shard when that is short of it, or the
// most replicas of a shard (Dead, partial or extra ones included) when none is short. So a Dead replica,
// a missing one or one left by an aborted transfer makes the next plan show a change, which the apply
// repairs.
func effectiveReplication(configured int64, shards []shardInfo) int64 {
	if len(shards) == 0 {
		return configured
	}
	minActive, maxTotal := int64(1<<31), int64(0)
	busy := false
	for _, s := range shards {
		minActive = min(minActive, int64(activeCount(s)))
		maxTotal = max(maxTotal, int64(len(s.Replicas)))
		busy = busy || s.Busy
	}
	switch {
	case minActive < configured:
		return minActive
	case maxTotal != configured:
		return maxTotal
	case busy:
		// every shard looks right but a transfer still runs: report one more than wanted so the plan
		// shows the change the apply will settle
		return configured + 1
	}
	return configured
}

// peersFor lists the cluster's peers: from GET /cluster when a REST URL is configured, else only those
// the collection's replicas (and the answering peer) show.
func (a *api) peersFor(ctx context.Context, info *pb.CollectionClusterInfoResponse, shards []shardInfo) (ids []uint64, down map[uint64]string, err error) {
	down = map[uint64]string{}
	st, ok, err := a.cluster(ctx)
	if err != nil {
		return nil, nil, err
	}
	if ok {
		for _, p := range st.Peers {
			id, err := strconv.ParseUint(p.ID, 10, 64)
			if err != nil {
				continue
			}
			ids = append(ids, id)
			if p.Down {
				down[id] = st.Failures[p.URI]
			}
		}
		return ids, down, nil
	}
	seen := map[uint64]bool{info.GetPeerId(): true}
	ids = append(ids, info.GetPeerId())
	for _, s := range shards {
		for _, r := range s.Replicas {
			if !seen[r.Peer] {
				seen[r.Peer] = true
				ids = append(ids, r.Peer)
			}
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids, down, nil
}

// reconcileReplicas replicates and drops shard replicas until every shard of the collection has exactly
// rf Active replicas on distinct peers and nothing else, waiting for transfers to finish. It returns when
// that is true, or when ctx ends, with an error naming each shard still wrong and why (the peer that
// could not take a replica, a transfer still running).
func (a *api) reconcileReplicas(ctx context.Context, name string, rf int) error {
	problems := map[uint32]string{}
	for {
		var info *pb.CollectionClusterInfoResponse
		err := retry(ctx, func(ctx context.Context) error {
			var err error
			info, err = a.client.GetCollectionClusterInfo(ctx, name)
			return err
		})
		if err != nil {
			return fmt.Errorf("reading the shards of collection %q: %w", name, err)
		}
		shards := shardsOf(info)
		peers, down, err := a.peersFor(ctx, info, shards)
		if err != nil {
			return fmt.Errorf("reading the cluster's peers: %w", err)
		}
		load := map[uint64]int{}
		for _, s := range shards {
			for _, r := range s.Replicas {
				load[r.Peer]++
			}
		}
		done := true
		for _, s := range shards {
			active := activeCount(s)
			if active == rf && len(s.Replicas) == rf && !s.Busy {
				delete(problems, s.ID)
				continue
			}
			done = false
			if s.Busy {
				if _, ok := problems[s.ID]; !ok {
					problems[s.ID] = "a shard transfer is still running"
				}
				continue
			}
			if active >= rf {
				// drop non-active replicas first, then the extra active ones on the busiest peers
				victims := dropOrder(s, load)
				for _, r := range victims[:len(s.Replicas)-rf] {
					if err := a.drop(ctx, name, s.ID, r.Peer); err != nil {
						problems[s.ID] = fmt.Sprintf("dropping its replica on peer %d: %v", r.Peer, err)
						break
					}
					load[r.Peer]--
				}
				continue
			}
			if active == 0 {
				problems[s.ID] = "no Active replica to copy from (waiting for one: new replicas pass through Initializing)"
				continue
			}
			var src uint64
			have := map[uint64]replicaInfo{}
			initializing := false
			for _, r := range s.Replicas {
				have[r.Peer] = r
				if r.State == pb.ReplicaState_Active && src == 0 {
					src = r.Peer
				}
				initializing = initializing || r.State == pb.ReplicaState_Initializing
			}
			if initializing {
				problems[s.ID] = "replicas are still Initializing"
				continue
			}
			targets := targetOrder(peers, have, down, load)
			if len(targets) == 0 {
				problems[s.ID] = fmt.Sprintf("has %d of %d Active replicas and no peer left to place one (the cluster has %d peers)",
					active, rf, len(peers))
				continue
			}
			var errs []string
			started := false
			for _, to := range targets {
				err := a.client.UpdateClusterCollectionSetup(ctx, &pb.UpdateCollectionClusterSetupRequest{
					CollectionName: name,
					Operation: &pb.UpdateCollectionClusterSetupRequest_ReplicateShard{ReplicateShard: &pb.ReplicateShard{
						ShardId: s.ID, FromPeerId: src, ToPeerId: to}},
				})
				if err == nil {
					load[to]++
					started = true
					break
				}
				why := errText(err)
				if d, ok := down[to]; ok && d != "" {
					why += " (peer unreachable: " + d + ")"
				}
				errs = append(errs, fmt.Sprintf("peer %d: %s", to, why))
			}
			if !started {
				problems[s.ID] = fmt.Sprintf("has %d of %d Active replicas; no peer could take a replica: %s",
					active, rf, strings.Join(errs, "; "))
			} else {
				problems[s.ID] = fmt.Sprintf("has %d of %d Active replicas; a replication was started", active, rf)
			}
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("collection %q did not reach %d Active replicas per shard before the timeout: %s",
				name, rf, describeProblems(problems))
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func describeProblems(p map[uint32]string) string {
	ids := make([]int, 0, len(p))
	for id := range p {
		ids = append(ids, int(id))
	}
	sort.Ints(ids)
	var parts []string
	for _, id := range ids {
		parts = append(parts, fmt.Sprintf("shard %d %s", id, p[uint32(id)]))
	}
	return strings.Join(parts, "; ")
}

// dropOrder lists a shard's replicas in the order they should go: not Active first, then Active ones on
// the most loaded peers.
func dropOrder(s shardInfo, load map[uint64]int) []replicaInfo {
	out := append([]replicaInfo(nil), s.Replicas...)
	sort.SliceStable(out, func(i, j int) bool {
		ai, aj := out[i].State == pb.ReplicaState_Active, out[j].State == pb.ReplicaState_Active
		if ai != aj {
			return !ai
		}
		if load[out[i].Peer] != load[out[j].Peer] {
			return load[out[i].Peer] > load[out[j].Peer]
		}
		return out[i].Peer > out[j].Peer
	})
	return out
}

// targetOrder lists the peers that may take a new replica of a shard: peers holding a Dead (or other
// non-active) replica of it first (replicating onto them repairs it), then peers without one, least
// loaded first; peers reported down come last, so that if nothing else is left the error names them.
func targetOrder(peers []uint64, have map[uint64]replicaInfo, down map[uint64]string, load map[uint64]int) []uint64 {
	var out []uint64
	for _, p := range peers {
		if r, ok := have[p]; !ok || r.State != pb.ReplicaState_Active {
			out = append(out, p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		_, di := down[out[i]]
		_, dj := down[out[j]]
		if di != dj {
			return !di
		}
		_, hi := have[out[i]]
		_, hj := have[out[j]]
		if hi != hj {
			return hi
		}
		return load[out[i]] < load[out[j]]
	})
	return out
}

func (a *api) drop(ctx context.Context, name string, shard uint32, peer uint64) error {
	return a.client.UpdateClusterCollectionSetup(ctx, &pb.UpdateCollectionClusterSetupRequest{
		CollectionName: name,
		Operation: &pb.UpdateCollectionClusterSetupRequest_DropReplica{DropReplica: &pb.Replica{
			ShardId: shard, PeerId: peer}},
	})
}
