package scale_test

import (
	"fmt"
	"strings"
)

// mix is how many resources of each kind a generated platform holds.
type mix struct {
	Agents, Channels, Policies, Collections, Roles, Assignments, TablePolicies int
}

func (m mix) total() int {
	return m.Agents + m.Channels + m.Policies + m.Collections + m.Roles + m.Assignments + m.TablePolicies
}

// full is the benchmark's platform of 500: per agent three alert policies (failures, latency, memory),
// a collection for every few agents, and RBAC as the bulk (roles with inheritance, users holding one or
// two roles, RLS on the application's tables).
var full = mix{Agents: 40, Channels: 10, Policies: 120, Collections: 30, Roles: 100, Assignments: 190, TablePolicies: 10}

// only keeps the resources of one part of the platform (agents, policies with their channels, collections,
// rbac), to split a figure by type; ok is false for an unknown part.
func (m mix) only(part string) (mix, bool) {
	switch part {
	case "agents":
		return mix{Agents: m.Agents}, true
	case "policies":
		return mix{Channels: m.Channels, Policies: m.Policies}, true
	case "collections":
		return mix{Collections: m.Collections}, true
	case "rbac":
		return mix{Roles: m.Roles, Assignments: m.Assignments, TablePolicies: m.TablePolicies}, true
	}
	return m, false
}

// short is the same shape at 20 resources, for CI.
var short = mix{Agents: 2, Channels: 1, Policies: 5, Collections: 2, Roles: 4, Assignments: 5, TablePolicies: 1}

// tableName is the i-th application table that table policies protect (the benchmark creates them).
func tableName(i int) string { return fmt.Sprintf("bench_results_%d", i) }

// platformHCL is the alfred configuration of m; the provider block is filled from the sandbox's environment.
func platformHCL(m mix) string {
	var b strings.Builder
	b.WriteString(`terraform {
  required_providers {
    alfred = { source = "alfred-platform/alfred" }
  }
}
provider "alfred" {}
`)
	for i := 0; i < m.Agents; i++ {
		fmt.Fprintf(&b, `
resource "alfred_agent_service" "a%[1]d" {
  name                = "agent-%[1]d"
  image               = "europe-west1-docker.pkg.dev/p/agents/agent-%[1]d:1.0.%[1]d"
  deletion_protection = false
  memory              = "1Gi"
  max_instances       = 10
  env                 = { LOG_LEVEL = "info", QUEUE = "q-%[1]d" }
  secret_env          = { OPENAI_API_KEY = { secret = "openai-api-key", version = "3" } }
  invokers            = ["serviceAccount:gateway@p.iam.gserviceaccount.com"]
  labels              = { team = "agents" }
  metrics             = {}
}
`, i)
	}
	for i := 0; i < m.Channels; i++ {
		fmt.Fprintf(&b, `
resource "alfred_notification_channel" "c%[1]d" {
  type         = "email"
  display_name = "on-call %[1]d"
  labels       = { email_address = "oncall-%[1]d@example.com" }
}
`, i)
	}
	presets := []string{"task_failures", "task_latency", "memory"}
	for i := 0; i < m.Policies; i++ {
		agent := i / len(presets)
		if m.Agents > 0 {
			agent %= m.Agents
		}
		channels := ""
		if m.Channels > 0 {
			channels = fmt.Sprintf("notification_channels = [alfred_notification_channel.c%d.id]", i%m.Channels)
		}
		fmt.Fprintf(&b, `
resource "alfred_alert_policy" "p%[1]d" {
  display_name = "agent-%[2]d %[3]s %[1]d"
  severity     = "ERROR"
  %[4]s
  condition {
    preset                    = %[3]q
    service                   = "agent-%[2]d"
    disable_metric_validation = true
  }
}
`, i, agent, presets[i%len(presets)], channels)
	}
	for i := 0; i < m.Collections; i++ {
		fmt.Fprintf(&b, `
resource "alfred_qdrant_collection" "q%[1]d" {
  name               = "memory-%[1]d"
  shard_number       = 2
  replication_factor = 2
  vectors            = { "" = { size = 384, distance = "Cosine" } }
  payload_indexes    = { agent = "keyword" }
}
`, i)
	}
	for i := 0; i < m.Roles; i++ {
		inherits := ""
		if i > 0 && i%4 != 0 { // chains of four levels: r0 <- r1 <- r2 <- r3, r4 <- r5 ...
			inherits = fmt.Sprintf("inherits = [alfred_rbac_role.r%d.name]", i-1)
		}
		fmt.Fprintf(&b, `
resource "alfred_rbac_role" "r%[1]d" {
  name        = "role_%[1]d"
  description = "bench role %[1]d"
  permissions = ["tasks_%[1]d.read", "task_results_%[1]d.read"]
  %[2]s
}
`, i, inherits)
	}
	for i := 0; i < m.Assignments; i++ {
		fmt.Fprintf(&b, `
resource "alfred_rbac_role_assignment" "u%[1]d" {
  principal = "6f1c2d4e-0000-4000-8000-%012[1]d"
  role      = alfred_rbac_role.r%[2]d.name
}
`, i, i%max(m.Roles, 1))
	}
	for i := 0; i < m.TablePolicies; i++ {
		fmt.Fprintf(&b, `
resource "alfred_rbac_table_policy" "t%[1]d" {
  schema            = "public"
  table             = %[2]q
  select_permission = "task_results_%[1]d.read"
  delete_permission = "task_results_%[1]d.delete"
  owner_column      = "owner_id"
}
`, i, tableName(i))
	}
	return b.String()
}

// floorHCL is n resources of the floor provider, each a block of its own as in platformHCL (not count,
// which Terraform expands differently), with about as many attributes as a small real resource.
func floorHCL(n int) string {
	var b strings.Builder
	b.WriteString(`terraform {
  required_providers {
    floor = { source = "alfred-bench/floor" }
  }
}
`)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `
resource "floor_item" "x%[1]d" {
  name   = "item-%[1]d"
  value  = "v1"
  labels = { team = "agents", index = "%[1]d" }
}
`, i)
	}
	return b.String()
}
