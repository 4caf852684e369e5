#!/usr/bin/env bash
# kumo worker VM startup script: the `startup-script` metadata value of every worker VM (GceProvider)
# and of the instance template (infra/). google-guest-agent runs it as root on every boot.
#
# What it does, in order: installs Node 20 if the image lacks it; fetches and unpacks the kumo worker
# bundle named by the `kumo-worker-bundle` metadata (a gs:// URI; the tarball holds the repository with
# production node_modules); writes /etc/kumo/worker.env from metadata; runs the worker as a systemd
# service.
#
# Preemption: a spot VM gets about 30 s between the preemption notice and the hard power-off. The
# platform's ACPI soft-off makes systemd stop kumo-worker.service, which sends SIGTERM to the worker
# (KillSignal) and SIGKILL after TimeoutStopSec=25, inside that window. The worker's SIGTERM handler
# stops taking tasks and hands its running ones back. A `shutdown-script` metadata entry would run in
# the same 30 s in parallel; none is needed, and a slow one would eat the worker's time.
# KUMO_ON_GCE=1 also makes the worker watch the metadata server's `instance/preempted` flag, and on
# SIGTERM ask it: preempted, it hands its tasks back at once instead of draining first.
set -euo pipefail

readonly METADATA_ROOT=http://metadata.google.internal/computeMetadata/v1
readonly METADATA="${METADATA_ROOT}/instance"
readonly KUMO_HOME=/opt/kumo
readonly ENV_DIR=/etc/kumo
readonly ENV_FILE=/etc/kumo/worker.env
readonly UNIT_FILE=/etc/systemd/system/kumo-worker.service
readonly NODE_MAJOR=20

log() {
  echo "kumo-startup: $*"
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

ensure_user() {
  if ! id kumo >/dev/null 2>&1; then
    useradd --system --home-dir "${KUMO_HOME}" --shell /usr/sbin/nologin kumo
  fi
  # Container tasks need the docker socket where the image has docker.
  if getent group docker >/dev/null 2>&1; then
    usermod -aG docker kumo
  fi
  chown -R kumo:kumo "${KUMO_HOME}"
}

write_env() {
  local extra
  install -d -m 0750 -o root -g kumo "${ENV_DIR}"
  # The worker token is in here: readable by the worker's group only.
  (
    umask 027
    {
      echo "NODE_ENV=production"
      echo "KUMO_POOL=$(attribute kumo-pool)"
      echo "KUMO_SLOTS=$(attribute kumo-slots)"
      echo "KUMO_CONTROL_URL=$(attribute kumo-control-url)"
      echo "REDIS_URL=$(attribute kumo-redis-url)"
      echo "KUMO_WORKER_TOKEN=$(attribute kumo-worker-token)"
      # The worker's id must be the VM's name: the autoscaler matches heartbeats to VMs by it (idle
      # scale-down, the boot timeout).
      echo "KUMO_WORKER_NAME=$(metadata name)"
      echo "KUMO_VM_NAME=$(metadata name)"
      echo "GOOGLE_CLOUD_PROJECT=$(metadata_value "${METADATA_ROOT}/project/project-id")"
      echo "KUMO_ON_GCE=1"
      echo "KUMO_ZONE=$(metadata zone | awk -F/ '{print $NF}')"
    } >"${ENV_FILE}.new"
    # Extra variables arrive as KEY=VALUE lines; read them unflattened.
    extra="$(curl -fsS --retry 5 --max-time 10 -H 'Metadata-Flavor: Google' "${METADATA}/attributes/kumo-extra-env" 2>/dev/null || true)"
    if [[ -n "${extra}" ]]; then
      printf '%s\n' "${extra}" | grep -E '^[A-Za-z_][A-Za-z0-9_]*=' >>"${ENV_FILE}.new" || true
    fi
  )
  chgrp kumo "${ENV_FILE}.new"
  mv "${ENV_FILE}.new" "${ENV_FILE}"
}

write_unit() {
  cat >"${UNIT_FILE}" <<UNIT
[Unit]
Description=kumo worker
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
User=kumo
Group=kumo
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
  systemctl daemon-reload
  systemctl enable kumo-worker.service
  systemctl restart kumo-worker.service
}

main() {
  log "starting"
  install_node
  fetch_worker
  ensure_user
  write_env
  write_unit
  log "kumo-worker.service started"
}

main "$@"
