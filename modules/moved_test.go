package modules_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
)

// A platform applied before modules/observability and modules/data existed (alerting defined in the
// platform module, collections, the replica, network security and partitions declared by examples/platform
// itself) moves into the new modules through the moved blocks of modules/platform and of
// examples/platform/moved.tf: the plan moves seven objects and creates, changes or destroys none.
func TestPlatformMovedBlocksCarryEarlierObjectsIntoTheNewModules(t *testing.T) {
	env := sandboxEnv(t)
	ctx := context.Background()
	db, err := pgx.Connect(ctx, env["ALFRED_POSTGRES_DSN"])
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	if _, err := db.Exec(ctx, `create table public.events (id bigserial, created_at timestamptz not null) partition by range (created_at)`); err != nil {
		t.Fatal(err)
	}
	cli := acctest.NewCLI(t)
	root := copyTF(t, "modules")
	write := func(rel, text string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The platform module's alerting as it was (modules/platform/alerting.tf), around the same agent module.
	write("old/platform/main.tf", `
terraform {
  required_providers {
    alfred = { source = "alfred-platform/alfred" }
  }
}
module "agent" {
  source   = "../../modules/agent"
  for_each = { "alfred-bot" = "example.com/alfred-bot:1" }
  name                = each.key
  image               = each.value
  deletion_protection = false
}
module "security" {
  source = "../../modules/security"
}
variable "secrets" {
  type      = map(map(string))
  default   = {}
  sensitive = true
}
resource "alfred_notification_channel" "this" {
  for_each         = { oncall = { type = "email", labels = { email_address = "oncall@example.com" } } }
  type             = each.value.type
  display_name     = each.key
  labels           = each.value.labels
  sensitive_labels = lookup(var.secrets, each.key, null)
}
resource "alfred_alert_policy" "agent" {
  for_each              = toset(["alfred-bot"])
  display_name          = "${each.key}: agent health"
  severity              = "ERROR"
  combiner              = "OR"
  notification_channels = [for k in sort(keys(alfred_notification_channel.this)) : alfred_notification_channel.this[k].id]
  documentation         = "# ${each.key}\n\nCheck the agent's logs and its task queue's dead-letter subscription; roll back its last revision if the alert started with it."
  user_labels           = { agent = each.key }
  dynamic "condition" {
    for_each = ["task_failures", "task_latency", "cpu", "memory", "request_rate_anomaly"]
    content {
      preset                    = condition.value
      service                   = each.key
      disable_metric_validation = true
    }
  }
}
`)
	// examples/platform as it was: its own collections, replica, network security and partitions.
	write("env/main.tf", header+`
module "platform" {
  source = "../old/platform"
}
resource "alfred_qdrant_collection" "task_embeddings" {
  name                     = "task-embeddings-v1"
  shard_number             = 3
  replication_factor       = 2
  write_consistency_factor = 1
  vectors                  = { "" = { size = 8, distance = "Cosine" } }
  payload_indexes          = { agent = "keyword" }
  aliases                  = ["task-embeddings"]
}
resource "alfred_qdrant_collection" "agent_memory" {
  name         = "agent-memory"
  vectors      = { text = { size = 8, distance = "Cosine" } }
  quantization = { type = "scalar", quantile = 0.99 }
}
resource "alfred_supabase_read_replica" "analytics" {
  project_ref = "alfredsandboxproject"
  region      = "us-east-1"
}
resource "alfred_supabase_network_security" "db" {
  project_ref     = "alfredsandboxproject"
  ssl_enforcement = true
  allowed_cidrs   = ["127.0.0.0/8"]
}
resource "alfred_postgres_partitions" "events" {
  table             = "events"
  interval          = "day"
  premake           = 7
  retention         = "30d"
  default_partition = true
}
`)
	dir := filepath.Join(root, "env")
	cli.Init(t, dir)
	cli.Run(t, dir, []int{0}, "apply", "-auto-approve", "-input=false", "-no-color")

	// The same platform through modules/platform, with examples/platform's moved blocks.
	moved, err := os.ReadFile(filepath.Join(acctest.RepoRoot(), "examples", "platform", "moved.tf"))
	if err != nil {
		t.Fatal(err)
	}
	write("env/moved.tf", string(moved))
	write("env/main.tf", header+`
module "platform" {
  source              = "../modules/platform"
  deletion_protection = false
  agents              = { "alfred-bot" = { image = "example.com/alfred-bot:1" } }
  alerting = {
    enabled                   = true
    channels                  = { oncall = { type = "email", labels = { email_address = "oncall@example.com" } } }
    disable_metric_validation = true
  }
  collections = {
    "task-embeddings-v1" = {
      shard_number             = 3
      replication_factor       = 2
      write_consistency_factor = 1
      vectors                  = { "" = { size = 8, distance = "Cosine" } }
      payload_indexes          = { agent = "keyword" }
      aliases                  = ["task-embeddings"]
    }
    "agent-memory" = {
      vectors      = { text = { size = 8, distance = "Cosine" } }
      quantization = { type = "scalar", quantile = 0.99 }
    }
  }
  supabase_project_ref = "alfredsandboxproject"
  read_replicas        = { analytics = { region = "us-east-1" } }
  network_security     = { allowed_cidrs = ["127.0.0.0/8"] }
  partitions           = { "public.events" = { premake = 7, retention = "30d" } }
}
`)
	cli.Init(t, dir)
	_, out := cli.Run(t, dir, []int{0, 2}, "plan", "-detailed-exitcode", "-input=false", "-no-color")
	if n := strings.Count(out, " has moved to "); n != 7 || !strings.Contains(out, "0 to add, 0 to change, 0 to destroy") {
		t.Errorf("want seven moves and nothing else, got %d moves:\n%s", n, out)
	}
	cli.Run(t, dir, []int{0}, "apply", "-auto-approve", "-input=false", "-no-color")
	if code, out := cli.Run(t, dir, []int{0, 2}, "plan", "-detailed-exitcode", "-input=false", "-no-color"); code != 0 {
		t.Errorf("after the moves, the plan must be empty:\n%s", out)
	}
	cli.Run(t, dir, []int{0}, "destroy", "-auto-approve", "-input=false", "-no-color")
}
