#!/usr/bin/env bash
# kumo control-plane VM startup script (the `startup-script` metadata of the VM in control-plane.tf).
# google-guest-agent runs it as root on every boot.
#
# Installs Node 20 if missing, unpacks the kumo release named by the `kumo-bundle` metadata (a gs://
# tarball of the repository with production node_modules), writes /etc/kumo/control-plane.env from the
# `kumo-env` metadata (KEY=VALUE lines: KUMO_PROVIDER=gce, KUMO_BUS=pubsub, ...) and REDIS_URL, read
# from the Secret Manager secret that the `kumo-redis-url-secret` metadata names (metadata holds no
# secret: anyone with compute.instances.get reads it), and runs `npm start` as a systemd service.
# SIGTERM lets the services drain; systemd kills after 30 s.
set -euo pipefail

# Overridable for tests only (sourced, the script defines its functions and runs nothing).
readonly METADATA_ROOT="${KUMO_STARTUP_METADATA_ROOT:-http://metadata.google.internal/computeMetadata/v1}"
readonly METADATA="${METADATA_ROOT}/instance/attributes"
readonly SECRET_MANAGER="${KUMO_STARTUP_SECRET_MANAGER:-https://secretmanager.googleapis.com/v1}"
readonly KUMO_HOME=/opt/kumo
readonly ENV_FILE=/etc/kumo/control-plane.env
readonly UNIT_FILE=/etc/systemd/system/kumo-control-plane.service
readonly NODE_MAJOR=20

# To stderr: secret_value prints its value on stdout.
log() {
  echo "kumo-control-plane-startup: $*" >&2
  logger -t kumo-control-plane-startup -- "$*" || true
}

# attribute NAME: a metadata value, verbatim (multi-line values stay multi-line), empty when absent.
attribute() {
  curl -fsS --retry 5 --retry-connrefused --max-time 10 -H 'Metadata-Flavor: Google' "${METADATA}/$1" 2>/dev/null || true
}

# json_string KEY...: the string at that path of the JSON on stdin. Values travel through pipes, never
# as command-line arguments (readable by every user in /proc).
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

# secret_value RESOURCE: a Secret Manager secret's latest version (projects/P/secrets/S), read with the
# VM's service-account token, which reaches curl as config on stdin. Retried while the role propagates.
secret_value() {
  local token body value
  token="$(curl -fsS --retry 5 --retry-connrefused --max-time 10 -H 'Metadata-Flavor: Google' \
    "${METADATA_ROOT}/instance/service-accounts/default/token" | json_string access_token)"
  body="$(printf 'header = "Authorization: Bearer %s"\n' "${token}" |
    curl -fsS --config - --retry 10 --retry-all-errors --retry-max-time 300 --max-time 20 \
      "${SECRET_MANAGER}/$1/versions/latest:access")"
  value="$(printf '%s' "${body}" | json_string payload data | base64 -d)"
  if [[ -z "${value}" || ! "${value}" =~ ^[^[:space:]\"\'\\$]+$ ]]; then
    log "$1: the value is empty or holds whitespace, quotes, a backslash or \$"
    return 1
  fi
  printf '%s' "${value}"
}

install_node() {
  if command -v node >/dev/null 2>&1 && node --version | grep -q "^v${NODE_MAJOR}\."; then
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

fetch_release() {
  local bundle tmp
  bundle="$(attribute kumo-bundle | tr -d '\r\n')"
  if [[ -z "${bundle}" ]]; then
    if [[ -f "${KUMO_HOME}/package.json" ]]; then
      log "no kumo-bundle metadata; keeping ${KUMO_HOME}"
      return
    fi
    log "no kumo-bundle metadata and nothing in ${KUMO_HOME}"
    exit 1
  fi
  if [[ -f "${KUMO_HOME}/.bundle-uri" && "$(cat "${KUMO_HOME}/.bundle-uri")" == "${bundle}" ]]; then
    return
  fi
  log "fetching ${bundle}"
  tmp="$(mktemp -d)"
  if command -v gcloud >/dev/null 2>&1; then
    gcloud storage cp "${bundle}" "${tmp}/kumo.tgz"
  else
    gsutil cp "${bundle}" "${tmp}/kumo.tgz"
  fi
  rm -rf "${KUMO_HOME}.new"
  mkdir -p "${KUMO_HOME}.new"
  tar -xzf "${tmp}/kumo.tgz" -C "${KUMO_HOME}.new"
  rm -rf "${tmp}"
  if [[ ! -d "${KUMO_HOME}.new/node_modules" ]]; then
    (cd "${KUMO_HOME}.new" && npm ci --omit=dev --no-audit --no-fund)
  fi
  echo "${bundle}" >"${KUMO_HOME}.new/.bundle-uri"
  # Keep .kumo/ (the generated admin token) across releases.
  if [[ -d "${KUMO_HOME}/.kumo" ]]; then
    mv "${KUMO_HOME}/.kumo" "${KUMO_HOME}.new/.kumo"
  fi
  rm -rf "${KUMO_HOME}"
  mv "${KUMO_HOME}.new" "${KUMO_HOME}"
}

write_env() {
  local secret redis_url
  secret="$(attribute kumo-redis-url-secret | tr -d '\r\n')"
  if [[ -z "${secret}" ]]; then
    log "no kumo-redis-url-secret metadata: nowhere to read REDIS_URL from"
    exit 1
  fi
  redis_url="$(secret_value "${secret}")"
  install -d -m 0750 /etc/kumo
  (
    umask 077
    {
      # A REDIS_URL in the metadata would be a secret there: dropped.
      attribute kumo-env | grep -E '^[A-Za-z_][A-Za-z0-9_]*=' | grep -v '^REDIS_URL=' || true
      printf 'REDIS_URL=%s\n' "${redis_url}"
    } >"${ENV_FILE}.new"
  )
  mv "${ENV_FILE}.new" "${ENV_FILE}"
  if ! id kumo >/dev/null 2>&1; then
    useradd --system --home-dir "${KUMO_HOME}" --shell /usr/sbin/nologin kumo
  fi
  chgrp kumo "${ENV_FILE}"
  chmod 0640 "${ENV_FILE}"
  chgrp kumo /etc/kumo
  chown -R kumo:kumo "${KUMO_HOME}"
}

write_unit() {
  cat >"${UNIT_FILE}" <<UNIT
[Unit]
Description=kumo control plane (npm start)
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
User=kumo
Group=kumo
WorkingDirectory=${KUMO_HOME}
EnvironmentFile=${ENV_FILE}
ExecStart=/usr/bin/npm start
KillSignal=SIGTERM
KillMode=mixed
TimeoutStopSec=30
Restart=always
RestartSec=5

[Install]
WantedBy=multi-user.target
UNIT
  systemctl daemon-reload
  systemctl enable kumo-control-plane.service
  systemctl restart kumo-control-plane.service
}

main() {
  install_node
  fetch_release
  write_env
  write_unit
  log "kumo-control-plane.service started"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
