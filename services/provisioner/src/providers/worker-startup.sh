#!/usr/bin/env bash
# kumo worker VM startup script: the `startup-script` metadata value of every worker VM (GceProvider)
# and of the instance template (infra/). google-guest-agent runs it as root on every boot.
#
# In order: installs Node 20 if the image lacks it, and iptables, unshare and setpriv (the agent isolates
# tasks with them); unpacks the worker bundle named by the `kumo-worker-bundle` metadata (a gs:// tarball
# of the repository with production node_modules); reads the Redis URL and the worker token from Secret
# Manager (metadata, which every process on the VM can read, names the secrets only); writes them and the
# worker's other settings to /etc/kumo/worker.env (root's alone); runs the agent, as root, under systemd.
# The agent runs tasks as other uids that it cuts off from the metadata server and Redis; no account a
# task could become is in the `docker` group.
#
# Preemption: a spot VM gets about 30 s between the preemption notice and the hard power-off. The
# platform's ACPI soft-off makes systemd stop kumo-worker.service, which sends SIGTERM to the worker
# (KillSignal) and SIGKILL after TimeoutStopSec=25, inside that window. The worker's SIGTERM handler
# stops taking tasks and hands its running ones back. A `shutdown-script` metadata entry would run in
# the same 30 s in parallel; none is needed, and a slow one would eat the worker's time.
# KUMO_ON_GCE=1 also makes the worker watch the metadata server's `instance/preempted` flag, and on
# SIGTERM ask it: preempted, it hands its tasks back at once instead of draining first.
#
# Sourced, it only defines its functions: a test calls one with KUMO_STARTUP_* pointing at stand-ins.
set -euo pipefail

readonly METADATA_ROOT="${KUMO_STARTUP_METADATA_ROOT:-http://metadata.google.internal/computeMetadata/v1}"
readonly METADATA="${METADATA_ROOT}/instance"
readonly SECRET_MANAGER="${KUMO_STARTUP_SECRET_MANAGER:-https://secretmanager.googleapis.com/v1}"
# Secret Manager answers 403 for a while after the worker's role was granted (IAM propagation): keep
# asking for this long before giving up on a secret.
readonly SECRET_RETRY_MAX_S="${KUMO_STARTUP_SECRET_RETRY_MAX_S:-300}"
readonly KUMO_HOME=/opt/kumo
readonly ENV_DIR="${KUMO_STARTUP_ENV_DIR:-/etc/kumo}"
readonly ENV_FILE="${ENV_DIR}/worker.env"
readonly UNIT_FILE=/etc/systemd/system/kumo-worker.service
readonly NODE_MAJOR=20

# To stderr: functions that print a value on stdout log too, and their logs must not join the value.
log() {
  echo "kumo-startup: $*" >&2
  logger -t kumo-startup -- "$*" || true
}

# metadata_value URL: one value from the metadata server, empty when absent. CR and LF are dropped so
# that a value can never add a line to the env file.
metadata_value() {
  curl -fsS --retry 5 --retry-connrefused --max-time 10 -H 'Metadata-Flavor: Google' "$1" 2>/dev/null |
    tr -d '\r\n' || true
}

# metadata PATH: a value of this instance's metadata.
metadata() {
  metadata_value "${METADATA}/$1"
}

attribute() {
  metadata "attributes/$1"
}

# json_string KEY...: the string at that path in the JSON document on stdin, nothing when absent. The
# document arrives on stdin and the value leaves on stdout: neither is ever a command-line argument,
# which every user of the VM can read in /proc.
json_string() {
  node -e '
    let text = "";
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (d) => (text += d));
    process.stdin.on("end", () => {
      let v;
      try {
        v = JSON.parse(text);
      } catch {
        process.exit(1); // silently: the error would quote the text
      }
      for (const k of process.argv.slice(1)) v = v === null || typeof v !== "object" ? undefined : v[k];
      if (typeof v === "string") process.stdout.write(v);
    });' "$@"
}

# access_token: an OAuth token of the VM's service account, from the metadata server.
access_token() {
  local token
  token="$(curl -fsS --retry 5 --retry-connrefused --max-time 10 -H 'Metadata-Flavor: Google' \
    "${METADATA}/service-accounts/default/token" | json_string access_token)" || return 1
  [[ "${token}" =~ ^[A-Za-z0-9._~+/=-]+$ ]] || return 1
  printf '%s' "${token}"
}

# secret_resource NAME: projects/P/secrets/S/versions/V for a secret's id (this project, latest
# version), its resource name (latest version) or a version's resource name.
secret_resource() {
  local name="$1"
  if [[ "${name}" != projects/* ]]; then
    name="projects/$(metadata_value "${METADATA_ROOT}/project/project-id")/secrets/${name}"
  fi
  if [[ "${name}" != */versions/* ]]; then
    name="${name}/versions/latest"
  fi
  [[ "${name}" =~ ^projects/[A-Za-z0-9.:-]+/secrets/[A-Za-z0-9_-]+/versions/[A-Za-z0-9]+$ ]] || return 1
  printf '%s' "${name}"
}

# secret_value NAME: the value of a Secret Manager secret, on stdout, through the REST API with the VM's
# own token. The token reaches curl as a config file on stdin, not as an argument. A value must be one
# line an env file keeps as it is: no whitespace, quotes, backslash or `$` (percent-encode them in a URL).
secret_value() {
  local resource token body value
  if ! resource="$(secret_resource "$1")"; then
    # Not echoed: a value put where its name belongs would land in the console log.
    log "the metadata's secret name is no Secret Manager secret id or resource name"
    return 1
  fi
  if ! token="$(access_token)"; then
    log "no access token for the VM's service account from the metadata server"
    return 1
  fi
  if ! body="$(printf 'header = "Authorization: Bearer %s"\n' "${token}" |
    curl -fsS --config - --retry 10 --retry-all-errors --retry-max-time "${SECRET_RETRY_MAX_S}" --max-time 20 \
      "${SECRET_MANAGER}/${resource}:access")"; then
    log "could not read ${resource} (does the worker's service account have roles/secretmanager.secretAccessor on it?)"
    return 1
  fi
  if ! value="$(printf '%s' "${body}" | json_string payload data | base64 -d)"; then
    log "${resource}: the answer holds no base64 payload"
    return 1
  fi
  if [[ -z "${value}" || ! "${value}" =~ ^[^[:space:]\"\'\\$]+$ ]]; then
    log "${resource}: the value is empty or holds whitespace, quotes, a backslash or \$"
    return 1
  fi
  printf '%s' "${value}"
}

install_node() {
  if command -v node >/dev/null 2>&1 && node --version | grep -q "^v${NODE_MAJOR}\."; then
    log "node $(node --version) present"
    return
  fi
  log "installing node ${NODE_MAJOR}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q ca-certificates curl gnupg
  install -d -m 0755 /etc/apt/keyrings
  curl -fsSL https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key |
    gpg --dearmor --yes -o /etc/apt/keyrings/nodesource.gpg
  echo "deb [signed-by=/etc/apt/keyrings/nodesource.gpg] https://deb.nodesource.com/node_${NODE_MAJOR}.x nodistro main" \
    >/etc/apt/sources.list.d/nodesource.list
  apt-get update -q
  apt-get install -y -q nodejs
}

# Copies a gs:// object with whichever client the image has (Deep Learning VM images carry both).
gcs_copy() {
  if command -v gcloud >/dev/null 2>&1; then
    gcloud storage cp "$1" "$2"
  else
    gsutil cp "$1" "$2"
  fi
}

fetch_worker() {
  local bundle marker tmp
  bundle="$(attribute kumo-worker-bundle)"
  marker="${KUMO_HOME}/.bundle-uri"
  if [[ -z "${bundle}" ]]; then
    if [[ -d "${KUMO_HOME}/services/worker" ]]; then
      log "no kumo-worker-bundle metadata; using the worker already in ${KUMO_HOME}"
      return
    fi
    log "no kumo-worker-bundle metadata and no worker in ${KUMO_HOME}"
    exit 1
  fi
  # A reboot of the same VM keeps its disk: fetch again only when the bundle changed.
  if [[ -f "${marker}" && "$(cat "${marker}")" == "${bundle}" ]]; then
    log "worker bundle ${bundle} already unpacked"
    return
  fi
  log "fetching worker bundle ${bundle}"
  tmp="$(mktemp -d)"
  gcs_copy "${bundle}" "${tmp}/worker.tgz"
  rm -rf "${KUMO_HOME}.new"
  mkdir -p "${KUMO_HOME}.new"
  tar -xzf "${tmp}/worker.tgz" -C "${KUMO_HOME}.new"
  rm -rf "${tmp}"
  if [[ ! -d "${KUMO_HOME}.new/node_modules" ]]; then
    log "bundle has no node_modules; installing production dependencies"
    (cd "${KUMO_HOME}.new" && npm ci --omit=dev --no-audit --no-fund)
  fi
  echo "${bundle}" >"${KUMO_HOME}.new/.bundle-uri"
  rm -rf "${KUMO_HOME}"
  mv "${KUMO_HOME}.new" "${KUMO_HOME}"
}

# The agent cuts tasks off from the metadata server and Redis with iptables and runs each task in its
# own namespaces with unshare and setpriv: without them it cannot isolate, so the VM must not start it.
ensure_tools() {
  local missing=()
  command -v iptables >/dev/null 2>&1 || missing+=(iptables)
  if ! command -v unshare >/dev/null 2>&1 || ! command -v setpriv >/dev/null 2>&1; then
    missing+=(util-linux)
  fi
  if ((${#missing[@]} > 0)); then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q "${missing[@]}"
  fi
  local tool
  for tool in iptables unshare setpriv; do
    if ! command -v "${tool}" >/dev/null 2>&1; then
      log "${tool} is missing: the worker cannot isolate tasks; not starting it"
      exit 1
    fi
  done
}

# The agent runs as root, so what it runs must be root's alone; and the docker socket is root by another
# name, so no account a task could become may be in the docker group. Earlier versions of this script
# ran the worker as `kumo` in that group: take the membership back on VMs that kept their disk.
harden() {
  if id kumo >/dev/null 2>&1 && id -nG kumo | tr ' ' '\n' | grep -qx docker; then
    gpasswd -d kumo docker >/dev/null
    log "removed user kumo from the docker group"
  fi
  chown -R root:root "${KUMO_HOME}"
  chmod -R go-w "${KUMO_HOME}"
}

write_env() {
  local redis_secret token_secret redis_url="" worker_token="" control extra name
  # Root only: the Redis password and the worker token are in here, and tasks run as other uids. An
  # older VM's directory was 0750 root:kumo; install -d leaves an existing one as it was.
  install -d -m 0700 -o root -g root "${ENV_DIR}"
  chown root:root "${ENV_DIR}"
  chmod 0700 "${ENV_DIR}"
  if [[ -n "$(attribute kumo-redis-url)" || -n "$(attribute kumo-worker-token)" ]]; then
    log "ignoring kumo-redis-url / kumo-worker-token metadata: secrets come from Secret Manager only"
  fi
  redis_secret="$(attribute kumo-redis-url-secret)"
  token_secret="$(attribute kumo-worker-token-secret)"
  if [[ -n "${redis_secret}" ]]; then
    redis_url="$(secret_value "${redis_secret}")" || return 1
  fi
  if [[ -n "${token_secret}" ]]; then
    worker_token="$(secret_value "${token_secret}")" || return 1
  fi
  if [[ -z "${redis_url}" && -z "${worker_token}" ]]; then
    log "metadata names neither kumo-redis-url-secret nor kumo-worker-token-secret: the worker has nothing to connect with"
    return 1
  fi
  control="$(attribute kumo-control-url)"
  name="$(metadata name)"
  (
    umask 077
    {
      echo "NODE_ENV=production"
      echo "KUMO_POOL=$(attribute kumo-pool)"
      echo "KUMO_SLOTS=$(attribute kumo-slots)"
      if [[ -n "${control}" ]]; then echo "KUMO_CONTROL_URL=${control}"; fi
      # The worker's id must be the VM's name: the autoscaler matches heartbeats to VMs by it (idle
      # scale-down, the boot timeout).
      echo "KUMO_WORKER_NAME=${name}"
      echo "KUMO_VM_NAME=${name}"
      echo "GOOGLE_CLOUD_PROJECT=$(metadata_value "${METADATA_ROOT}/project/project-id")"
      echo "KUMO_ON_GCE=1"
      echo "KUMO_ZONE=$(metadata zone | awk -F/ '{print $NF}')"
      # Extra variables arrive as KEY=VALUE lines; read them unflattened. They may not bring secrets:
      # those come from Secret Manager alone, and are written last.
      extra="$(curl -fsS --retry 5 --max-time 10 -H 'Metadata-Flavor: Google' "${METADATA}/attributes/kumo-extra-env" 2>/dev/null || true)"
      if [[ -n "${extra}" ]]; then
        printf '%s\n' "${extra}" | grep -E '^[A-Za-z_][A-Za-z0-9_]*=' | grep -vE '^(REDIS_URL|KUMO_WORKER_TOKEN)=' || true
      fi
      if [[ -n "${redis_url}" ]]; then printf 'REDIS_URL=%s\n' "${redis_url}"; fi
      if [[ -n "${worker_token}" ]]; then printf 'KUMO_WORKER_TOKEN=%s\n' "${worker_token}"; fi
    } >"${ENV_FILE}.new"
  )
  chown root:root "${ENV_FILE}.new"
  chmod 0600 "${ENV_FILE}.new"
  mv "${ENV_FILE}.new" "${ENV_FILE}"
  log "wrote ${ENV_FILE} (secrets from ${redis_secret:-no Redis secret} and ${token_secret:-no token secret})"
}

# unit_text: the systemd unit. The agent runs as root: it must switch each task to a uid of its own
# and install the iptables rules that keep tasks from the metadata server and Redis.
unit_text() {
  cat <<UNIT
[Unit]
Description=kumo worker
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
User=root
WorkingDirectory=${KUMO_HOME}
EnvironmentFile=${ENV_FILE}
ExecStart=/usr/bin/env node ${KUMO_HOME}/node_modules/tsx/dist/cli.mjs ${KUMO_HOME}/services/worker/src/main.ts
# SIGTERM first: the worker hands its running tasks back. Preemption leaves ~30 s in all.
KillSignal=SIGTERM
KillMode=mixed
TimeoutStopSec=25
Restart=always
RestartSec=5

[Install]
WantedBy=multi-user.target
UNIT
}

write_unit() {
  unit_text >"${UNIT_FILE}"
  systemctl daemon-reload
  systemctl enable kumo-worker.service
  systemctl restart kumo-worker.service
}

main() {
  log "starting"
  install_node
  ensure_tools
  fetch_worker
  harden
  write_env
  write_unit
  log "kumo-worker.service started"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
