#!/usr/bin/env bash
# make demo: bring the local sandbox up, apply the complete platform (examples/platform through
# modules/platform), and show that a second plan is empty. Leaves the sandbox running (stop it with
# `make demo-down`).
#
# ALFRED_BIN: where alfredctl, terraform-provider-alfred, terraform and versitygw are (default bin/, where
# make puts them; make demo passes its BIN); tools missing there come from bin/ and PATH.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${ALFRED_BIN:-$root/bin}
sandbox=$root/.alfred/sandbox
work=$root/.alfred/demo
export PATH=$bin:$root/bin:$PATH CHECKPOINT_DISABLE=1
started=$(date +%s)

step() { printf '\n==> %s\n' "$*"; }

for tool in psql promtool go; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "demo: $tool is not installed: run 'make deps' (as root, or install the Debian packages it names)" >&2
    exit 1
  fi
done
export PGOPTIONS='-c client_min_messages=warning' # no NOTICE for "already exists" on a second run

step "starting the sandbox (alfredctl sandbox up --dir $sandbox)"
"$bin/alfredctl" sandbox up --dir "$sandbox"
set -a
# shellcheck disable=SC1091
. "$sandbox/sandbox.env"
set +a

step "preparing the application's table (tables belong to the app, not to the provider)"
psql "$ALFRED_POSTGRES_DSN" -v ON_ERROR_STOP=1 -q <<'SQL'
create table if not exists public.task_results (
  id bigserial primary key,
  owner_id uuid not null,
  result jsonb not null default '{}'
);
create table if not exists public.events (
  id bigserial,
  created_at timestamptz not null default now(),
  kind text not null,
  payload jsonb not null default '{}'
) partition by range (created_at);
SQL

step "a bucket and an encryption keyset for the platform's backups"
mkdir -p "$work"
bucket=alfred-demo-backups
# versitygw answers 409 when the bucket exists: fine on a second run.
code=$(curl -sS -o /dev/null -w '%{http_code}' --aws-sigv4 "aws:amz:${AWS_REGION}:s3" \
  -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
  --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -X PUT "$ALFRED_S3_ENDPOINT/$bucket")
case $code in 200 | 409) ;; *) echo "demo: creating bucket $bucket: HTTP $code" >&2; exit 1 ;; esac
[ -f "$work/backup.keyset.json" ] || "$bin/alfredctl" backup keygen --out "$work/backup.keyset.json"
echo "  s3://$bucket, keyset $work/backup.keyset.json (mode 0600; the only way to read the backups)"
export TF_VAR_backup_bucket=$bucket TF_VAR_backup_postgres_dsn=$ALFRED_POSTGRES_DSN
TF_VAR_backup_encryption_key=$(cat "$work/backup.keyset.json")
export TF_VAR_backup_encryption_key

step "terraform apply of examples/platform with the locally built provider (dev_overrides)"
cat > "$work/terraformrc" <<RC
provider_installation {
  dev_overrides {
    "registry.terraform.io/alfred-platform/alfred" = "$bin"
  }
  direct {}
}
RC
export TF_CLI_CONFIG_FILE=$work/terraformrc
rm -f "$work"/*.tf # a file removed from the example must not linger
cp "$root"/examples/platform/*.tf "$work/"
# examples/platform calls ../../modules/platform, which resolves from .alfred/demo too. Its moved blocks
# carry the objects of an earlier demo (resources the example declared itself) into the modules.
cd "$work"
# init installs the modules; the provider comes from a plugin directory holding the binary just built
# (no registry is reachable), and dev_overrides makes every later command run that same binary. The lock
# file would pin the checksum of the binary of the previous run, failing init once the provider changed.
plugins=$work/plugins/registry.terraform.io/alfred-platform/alfred/0.0.1/$(go env GOOS)_$(go env GOARCH)
rm -rf "$work/plugins" "$work/.terraform.lock.hcl"
mkdir -p "$plugins"
cp "$bin/terraform-provider-alfred" "$plugins/terraform-provider-alfred_v0.0.1"
terraform init -input=false -no-color -plugin-dir="$work/plugins" >/dev/null
terraform apply -auto-approve -input=false -no-color

step "a second plan must be empty"
set +e
terraform plan -detailed-exitcode -input=false -no-color
code=$?
set -e
if [ "$code" -ne 0 ]; then
  echo "demo: the second plan is not empty (exit $code)" >&2
  exit 1
fi

step "RBAC at work: what alfred_rbac.authorize answers inside a user's request (JWT claims as PostgREST sets them)"
for who in "6f1c2d4e-0000-4000-8000-000000000001:alice (analyst)" "6f1c2d4e-0000-4000-8000-00000000beef:a user with no role"; do
  sub=${who%%:*}
  answer=$(psql "$ALFRED_POSTGRES_DSN" -qtA -v ON_ERROR_STOP=1 -v sub="$sub" <<'SQL'
begin;
set local role authenticated;
select set_config('request.jwt.claims', json_build_object('sub', :'sub', 'role', 'authenticated')::text, true);
select alfred_rbac.authorize('task_results.read');
rollback;
SQL
)
  echo "  ${who#*:}: task_results.read -> $(echo "$answer" | tail -1)"
done

step "the rendered Prometheus scrape config, checked by promtool"
terraform output -raw prometheus_scrape_configs > prometheus.yml
cat prometheus.yml
promtool check config --syntax-only prometheus.yml

step "alerting: the on-call channel, the failed-logins log metric and one alert policy per agent in the sandbox's Cloud Monitoring"
terraform output -json alerting
terraform output -raw grafana_dashboard > grafana-dashboard.json
echo "Grafana dashboard JSON: $work/grafana-dashboard.json ($(wc -c < grafana-dashboard.json) bytes)"
terraform output -raw prometheus_rules > prometheus-rules.yml
promtool check rules prometheus-rules.yml

step "Qdrant: every shard has replication_factor Active replicas on distinct peers"
terraform output -json qdrant

step "Supabase: the read replica of the project"
terraform output -json read_replica

step "time partitions of the events table: rows land in the partition of their day"
psql "$ALFRED_POSTGRES_DSN" -qtA -v ON_ERROR_STOP=1 <<'SQL'
select '  ' || count(*) || ' daily partitions: ' || min(c.relname) || ' .. ' || max(c.relname) || ', and events_default'
from pg_inherits i join pg_class c on c.oid = i.inhrelid
where i.inhparent = 'public.events'::regclass and c.relname <> 'events_default';
insert into public.events (created_at, kind) values (now(), 'task.done'), (now() - interval '2 days', 'task.failed'),
  (now() + interval '1 year', 'clock.skew');
select '  ' || kind || ' at ' || to_char(created_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC -> ' || tableoid::regclass
from public.events order by id desc limit 3;
SQL

step "agent services in the sandbox's Cloud Run"
terraform output -json agent_uris

step "each agent's task queue in the sandbox's Pub/Sub (push to the agent with an invoker's OIDC token, dead letters after max_delivery_attempts)"
terraform output -json task_queues

step "backups: the policy's Cloud Run job took the pre-migration backup at apply; list, verify and restore it into a scratch database"
export ALFRED_BACKUP_KEYSET_FILE=$work/backup.keyset.json
id=$(terraform output -json backups | python3 -c 'import json,sys; print(json.load(sys.stdin)["pre_migration_backup"]["backup_id"])')
prefix=$(terraform output -json backups | python3 -c 'import json,sys; print(json.load(sys.stdin)["pre_migration_backup"]["prefix"])')
"$bin/alfredctl" backup list --bucket "$bucket" --prefix "$prefix"
"$bin/alfredctl" backup verify "$id" --bucket "$bucket" --prefix "$prefix"
psql "$ALFRED_POSTGRES_DSN" -qtA -c 'drop database if exists demo_restored' >/dev/null
"$bin/alfredctl" backup restore "$id" --bucket "$bucket" --prefix "$prefix" --database postgres --target demo_restored
restored_dsn=$(python3 -c 'import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/demo_restored")))' "$ALFRED_POSTGRES_DSN")
psql "$restored_dsn" -qtA -v ON_ERROR_STOP=1 <<'SQL'
select '  demo_restored: ' || (select count(*) from alfred_rbac.roles) || ' RBAC roles, '
  || (select count(*) from pg_policies where policyname like 'alfred_rbac%') || ' row-level security policies, '
  || (select count(*) from pg_inherits where inhparent = 'public.events'::regclass) || ' partitions of events';
SQL

step "where to look next"
cat <<NEXT
  Grafana dashboard JSON:  $work/grafana-dashboard.json (import it in Grafana; data source uid managed-prometheus)
  Prometheus rules:        $work/prometheus-rules.yml, scrape config $work/prometheus.yml
  alert policies:          cd $work && terraform output -json alerting
                           (Cloud Monitoring at \$ALFRED_GCP_MONITORING_ENDPOINT, project \$ALFRED_GCP_PROJECT)
  everything applied:      cd $work && terraform state list
  backup listing:          set -a; . $sandbox/sandbox.env; set +a; ALFRED_BACKUP_KEYSET_FILE=$work/backup.keyset.json \\
                           $bin/alfredctl backup list --bucket $bucket --prefix $prefix   (scheduled sets: --prefix alfred/)
  the sandbox's variables: set -a; . $sandbox/sandbox.env; set +a
NEXT

echo
echo "demo: applied, and the second plan is empty, in $(( $(date +%s) - started ))s. The sandbox keeps running: 'make demo-down' stops it."
