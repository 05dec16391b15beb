#!/usr/bin/env bash
# A 4-task Slurm array over a sample corpus (normalize + detect-language) on a real single-node
# Slurm started here (munge, slurmctld, slurmd; no systemd), checked record for record against a
# single-process run; then `glossa status` names the ranks of deliberately removed units and
# re-submitting exactly that array range completes the output again. Run by `make test`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GLOSSA="${GLOSSA:-$ROOT/.build/debug/glossa}"
[ -x "$GLOSSA" ] || { echo "test-slurm: $GLOSSA is not built" >&2; exit 1; }
for tool in slurmctld slurmd sbatch squeue sinfo munged munge; do
  command -v "$tool" >/dev/null || { echo "test-slurm: $tool missing (scripts/setup.sh installs slurm-wlm and munge)" >&2; exit 1; }
done

WORK="$(mktemp -d /tmp/glossa-slurm.XXXXXX)"
NODE="$(hostname -s)"
started_munge=""

stop() {
  set +e
  if [ -f "$WORK/run/slurmctld.pid" ]; then scancel --quiet --user=root 2>/dev/null; fi
  for d in slurmd slurmctld; do
    if [ -f "$WORK/run/$d.pid" ]; then
      pid="$(cat "$WORK/run/$d.pid")"
      kill "$pid" 2>/dev/null
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
  done
  if [ -n "$started_munge" ] && [ -f /run/munge/munged.pid ]; then kill "$(cat /run/munge/munged.pid)" 2>/dev/null; fi
  if [ "${KEEP:-}" = "" ]; then rm -rf "$WORK"; fi
}
trap stop EXIT
fail() { echo "test-slurm: FAIL: $*" >&2; for f in "$WORK"/log/*.log "$WORK"/slurm-*.out; do [ -f "$f" ] && { echo "--- $f"; tail -n 20 "$f"; } >&2; done; exit 1; }

# munge: reuse a running munged, else start one as the munge user (the key comes with the package).
if ! (munge -n | unmunge) >/dev/null 2>&1; then
  chown munge: /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key
  mkdir -p /run/munge && chown munge: /run/munge
  runuser -u munge -- /usr/sbin/munged --force
  started_munge=1
  for _ in $(seq 1 50); do (munge -n | unmunge) >/dev/null 2>&1 && break; sleep 0.1; done
  (munge -n | unmunge) >/dev/null 2>&1 || fail "munged does not answer"
fi

# Free ports for this cluster only, so another Slurm on the machine is never touched.
read -r CTLD_PORT SLURMD_PORT < <(python3 -c '
import socket
ports = []
for _ in range(2):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); ports.append(s.getsockname()[1]); s.close()
print(*ports)')
MEM_MB=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
CPUS=$(nproc)
mkdir -p "$WORK"/{spool/slurmctld,spool/slurmd,run,log}
cat > "$WORK/slurm.conf" <<CONF
ClusterName=glossatest
SlurmctldHost=$NODE
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
StateSaveLocation=$WORK/spool/slurmctld
SlurmdSpoolDir=$WORK/spool/slurmd
SlurmctldPidFile=$WORK/run/slurmctld.pid
SlurmdPidFile=$WORK/run/slurmd.pid
SlurmctldLogFile=$WORK/log/slurmctld.log
SlurmdLogFile=$WORK/log/slurmd.log
NodeName=$NODE CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$WORK/slurm.conf"
slurmctld -i || fail "slurmctld did not start"
slurmd || fail "slurmd did not start"
state=""
for _ in $(seq 1 100); do
  state="$(sinfo -h -n "$NODE" -o %T 2>/dev/null || true)"
  [ "$state" = "idle" ] && break
  sleep 0.2
done
[ "$state" = "idle" ] || fail "node $NODE is '$state', not idle"
echo "test-slurm: Slurm $(sinfo -V | cut -d' ' -f2) up on $NODE (ports $CTLD_PORT/$SLURMD_PORT)"

# Eight input units from the sample corpora: documents split in six, the classification set,
# and the bad-lines sample (its rejects must match too).
mkdir -p "$WORK/in"
zstd -qdc "$ROOT/corpora/sample-documents.jsonl.zst" > "$WORK/documents.jsonl"
split -n l/6 -d -a 2 --additional-suffix=.jsonl "$WORK/documents.jsonl" "$WORK/in/docs-"
zstd -dc "$ROOT/corpora/sample-classify.jsonl.zst" > "$WORK/in/classify.jsonl"
cp "$ROOT/corpora/sample-bad-lines.jsonl.zst" "$WORK/in/"
pipeline() {  # name, output dir
  cat <<YAML
name: $1
input:
  paths: [$WORK/in]
  fields: [text]
stages:
  - normalize: {}
  - detect-language: {}
output:
  dir: $2
  path: "\${language}/part-\${rank}-\${shard}.jsonl.zst"
  max_records: 50
YAML
}
pipeline slurm-array "$WORK/out-array" > "$WORK/array.yaml"
pipeline single "$WORK/out-single" > "$WORK/single.yaml"

submit() {  # array range -> waits until the job has left the queue
  local job
  job=$(sbatch --parsable --array="$1" --chdir="$WORK" --output="$WORK/slurm-%A_%a.out" \
          --export=ALL,GLOSSA="$GLOSSA",GLOSSA_MODELS="$ROOT/models",GLOSSA_WORLD_SIZE=4 \
          "$ROOT/pipelines/slurm/glossa-array.sbatch" "$WORK/array.yaml") || fail "sbatch refused the job"
  job="${job%%;*}"
  for _ in $(seq 1 600); do
    [ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break
    sleep 0.5
  done
  [ -z "$(squeue -h -j "$job" 2>/dev/null)" ] || fail "job $job still queued after 300 s"
  echo "$job"
}

started=$SECONDS
job=$(submit 0-3)
for task in 0 1 2 3; do
  grep -q "all accounted for" "$WORK/slurm-${job}_${task}.out" || fail "array task $task did not finish cleanly"
  [ -f "$WORK/out-array/manifest-rank-$task.json" ] || fail "no manifest from rank $task"
done
echo "test-slurm: array job $job (4 tasks) finished in $((SECONDS - started)) s"
(cd "$WORK" && GLOSSA_MODELS="$ROOT/models" "$GLOSSA" run "$WORK/single.yaml" 2> "$WORK/log/single.log") || fail "single-process run failed"

records() { find "$1" -name '*.jsonl.zst' -not -path '*/.glossa/*' -not -path '*/rejects/*' -print0 | xargs -0 -r zstd -qdc | LC_ALL=C sort; }
rejects() { find "$1/rejects" -name '*.jsonl.zst' -print0 2>/dev/null | xargs -0 -r zstd -qdc | LC_ALL=C sort; }
records "$WORK/out-array" > "$WORK/array.txt"
records "$WORK/out-single" > "$WORK/single.txt"
n=$(wc -l < "$WORK/single.txt")
[ "$n" -gt 100 ] || fail "the single-process run wrote only $n records"
cmp -s "$WORK/array.txt" "$WORK/single.txt" || fail "the array's records differ from the single run's ($(wc -l < "$WORK/array.txt") vs $n)"
rejects "$WORK/out-single" > "$WORK/single-rejects.txt"
# The bad-lines sample has rejects: an empty list on both sides would compare equal vacuously.
[ "$(wc -l < "$WORK/single-rejects.txt")" -gt 0 ] || fail "the single-process run wrote no rejects"
[ "$(rejects "$WORK/out-array")" = "$(cat "$WORK/single-rejects.txt")" ] || fail "the array's rejects differ from the single run's"
echo "test-slurm: union of the 4 ranks == single process: $n records, identical"

# Drop two units' completion markers and their shards (as if their tasks had died before
# finishing); status must name exactly their ranks as an array range, and re-submitting that
# range must write the output again. Markers and shards are named by the unit's id: the first
# 12 hex digits of the SHA-256 of the unit's path as the run lists it.
unit_id() { printf '%s' "$1" | sha256sum | cut -c1-12; }
for unit in "$WORK/in/docs-00.jsonl" "$WORK/in/docs-05.jsonl"; do
  id=$(unit_id "$unit")
  [ -f "$WORK/out-array/.glossa/units/$id.json" ] || fail "no completion marker $id.json for $unit"
  rm "$WORK/out-array/.glossa/units/$id.json"
  shards=$(find "$WORK/out-array" -name "*-$id-*.jsonl.zst" -not -path '*/.glossa/*' | wc -l)
  [ "$shards" -gt 0 ] || fail "no shards named after unit $id ($unit)"
  find "$WORK/out-array" -name "*-$id-*.jsonl.zst" -not -path '*/.glossa/*' -delete
done
records "$WORK/out-array" > "$WORK/array.txt"
cmp -s "$WORK/array.txt" "$WORK/single.txt" && fail "removing two units' shards changed nothing"
status=$(cd "$WORK" && "$GLOSSA" status "$WORK/out-array")   # the output directory form
want=$(echo "$status" | awk '/^missing/ {gsub(/[()]/, "", $NF); print $NF}' | sort -un | paste -sd, -)
range=$(echo "$status" | sed -n 's/^ranks to re-run (world size 4): --array=//p')
[ -n "$range" ] || fail "glossa status printed no array range: $status"
expanded=$(echo "$range" | tr ',' '\n' | awk -F- '{ if (NF == 2) for (i = $1; i <= $2; i++) print i; else print $1 }' | paste -sd, -)
[ "$expanded" = "$want" ] || fail "status range $range does not cover exactly ranks $want"
echo "$status" | grep -q "sbatch --array=$range --export=ALL,GLOSSA_WORLD_SIZE=4" || fail "status printed no sbatch command"
submit "$range" > /dev/null
status=$(cd "$WORK" && "$GLOSSA" status "$WORK/array.yaml")
echo "$status" | grep -q "^8 of 8 units done" || fail "after re-submitting --array=$range: $status"
records "$WORK/out-array" > "$WORK/array.txt"
cmp -s "$WORK/array.txt" "$WORK/single.txt" || fail "records differ after re-running ranks $range"
echo "test-slurm: status named --array=$range for the removed units; re-running it restored identical output"
echo "test-slurm: OK"
