#!/usr/bin/env bash
# Validates the Helm chart deploy/helm/warden (`make helm-check`):
#   - helm lint --strict, with the default values and each deploy/helm/warden/ci/*.yaml;
#   - helm template of the same value sets, each checked by kubeconform -strict
#     against the Kubernetes schemas of the oldest and newest supported versions,
#     and the ServiceMonitor and cert-manager Certificate CRDs;
#   - what each value set must render (kinds, no --migrate, probes, ...);
#   - that Warden's own configuration loader (server/config) accepts the
#     rendered warden.yaml and WARDEN_* variables (.ci/chartconfig.go);
#   - bad values that values.schema.json or the chart must refuse.
#
# Everything it needs is fetched through package registries and cached outside
# the checkout, in $WARDEN_CACHE_DIR (default ${XDG_CACHE_HOME:-~/.cache}/warden/bin):
#   - helm and kubeconform, built with `go install pkg@version` (never added to go.mod);
#   - Kubernetes JSON schemas from the PyPI package kubernetes-validate (pip download);
#   - CRD schemas from the prometheus-operator and cert-manager Go modules
#     (go mod download), converted by .ci/crd2schema.go.
# Running it again reuses the cache.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0

HELM_VERSION=v3.22.0
KUBECONFORM_VERSION=v0.8.0
# The PyPI package's version is the newest Kubernetes version it bundles.
KUBE_SCHEMAS_VERSION=1.37.0
PROM_OPERATOR_VERSION=v0.85.0
CERT_MANAGER_VERSION=v1.21.2
# The oldest Kubernetes the chart supports (Chart.yaml kubeVersion) and the newest.
KUBE_VERSIONS=(1.30.0 1.37.0)

chart=deploy/helm/warden
cache=${WARDEN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/warden/bin}
start=$(date +%s)

die() { echo "helm-check: $*" >&2; exit 1; }
step() { echo "helm-check: $*"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

command -v go >/dev/null || die "go is not on PATH"
command -v python3 >/dev/null || die "python3 is needed to unpack the Kubernetes schemas (apt-get install python3)"

# --- tools ---------------------------------------------------------------

# install NAME VERSION PKG LDFLAGS: builds PKG@VERSION into $cache/NAME-VERSION.
install() {
  local name=$1 version=$2 pkg=$3 ldflags=$4 dir=$cache/$1-$2
  if [ ! -x "$dir/$name" ]; then
    step "building $name $version into $dir (once)" >&2
    mkdir -p "$tmp/gobin-$name"
    if ! (cd "$tmp" && GOBIN="$tmp/gobin-$name" go install -trimpath -ldflags "$ldflags" "$pkg@$version") >"$tmp/build-$name.log" 2>&1; then
      cat "$tmp/build-$name.log" >&2
      die "could not build $pkg@$version with $(go version) (is the Go module proxy reachable?)"
    fi
    mkdir -p "$dir"
    mv -f "$tmp/gobin-$name/$name" "$dir/$name"
  fi
  printf '%s' "$dir/$name"
}
helm=$(install helm "$HELM_VERSION" helm.sh/helm/v3/cmd/helm \
  "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean \
   -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=37 \
   -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=37")
kubeconform=$(install kubeconform "$KUBECONFORM_VERSION" github.com/yannh/kubeconform/cmd/kubeconform \
  "-s -w -X main.version=$KUBECONFORM_VERSION")

# --- Kubernetes schemas ----------------------------------------------------

schemas=$cache/k8s-schemas-$KUBE_SCHEMAS_VERSION
if [ ! -f "$schemas/.complete" ]; then
  step "fetching Kubernetes JSON schemas (PyPI kubernetes-validate==$KUBE_SCHEMAS_VERSION) into $schemas (once)"
  if ! python3 -m pip --version >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pip >/dev/null
    fi
    python3 -m pip --version >/dev/null 2>&1 || die "pip is needed to fetch the Kubernetes schemas (apt-get install python3-pip)"
  fi
  python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    -d "$tmp/wheel" "kubernetes-validate==$KUBE_SCHEMAS_VERSION" ||
    die "could not download kubernetes-validate==$KUBE_SCHEMAS_VERSION from PyPI"
  # The package's schemas refer to /api/_definitions.json under an $id of
  # kubernetes.io; kubeconform reads them as files, so the references are
  # made relative and the $id dropped.
  python3 - "$tmp/wheel" "$tmp/schemas" "${KUBE_VERSIONS[@]}" <<'PY'
import glob, json, os, sys, zipfile
wheel = glob.glob(os.path.join(sys.argv[1], "kubernetes_validate-*.whl"))[0]
out, versions = sys.argv[2], sys.argv[3:]
def fix(v):
    if isinstance(v, dict):
        return {k: (x.replace("/api/_definitions.json", "_definitions.json", 1) if k == "$ref" and isinstance(x, str) else fix(x))
                for k, x in v.items() if k != "$id"}
    if isinstance(v, list):
        return [fix(x) for x in v]
    return v
n = 0
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        for ver in versions:
            prefix = "kubernetes_validate/kubernetes-json-schema/v%s-local-strict/" % ver
            if name.startswith(prefix) and name.endswith(".json"):
                dest = os.path.join(out, "v%s-local-strict" % ver, name[len(prefix):])
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                with open(dest, "w") as f:
                    json.dump(fix(json.loads(z.read(name))), f)
                n += 1
for ver in versions:
    if not os.path.exists(os.path.join(out, "v%s-local-strict" % ver, "deployment-apps-v1.json")):
        sys.exit("kubernetes-validate has no schemas for Kubernetes %s" % ver)
print("helm-check: unpacked %d schema files" % n)
PY
  touch "$tmp/schemas/.complete"
  rm -rf "$schemas" && mkdir -p "$(dirname "$schemas")" && mv "$tmp/schemas" "$schemas"
fi

crds=$cache/crd-schemas-prometheus-operator-$PROM_OPERATOR_VERSION-cert-manager-$CERT_MANAGER_VERSION
if [ ! -f "$crds/.complete" ]; then
  step "converting the ServiceMonitor and Certificate CRDs into $crds (once)"
  moddir() { (cd "$tmp" && go mod download -json "$1@$2") | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'; }
  po=$(moddir github.com/prometheus-operator/prometheus-operator "$PROM_OPERATOR_VERSION") || true
  cm=$(moddir github.com/cert-manager/cert-manager "$CERT_MANAGER_VERSION") || true
  [ -n "$po" ] && [ -n "$cm" ] || die "could not download the prometheus-operator or cert-manager module"
  go run .ci/crd2schema.go "$tmp/crds" \
    "$po/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml" \
    "$cm/deploy/crds/cert-manager.io_certificates.yaml" || die "could not convert the CRDs"
  touch "$tmp/crds/.complete"
  rm -rf "$crds" && mv "$tmp/crds" "$crds"
fi
step "tools ready after $(($(date +%s) - start))s: $("$helm" version --short), kubeconform $("$kubeconform" -v)"

# --- checks --------------------------------------------------------------

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "  ok   $*"; }
ko() { failed=$((failed + 1)); echo "  FAIL $*"; }

validate() { # FILE KUBE-VERSION
  "$kubeconform" -strict -summary -kubernetes-version "$2" \
    -schema-location "$schemas/{{ .NormalizedKubernetesVersion }}-local{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
    -schema-location "$crds/{{ .ResourceKind }}{{ .KindSuffix }}.json" "$1"
}

# kubeconform must reject what it should, or a schema that failed to load
# would let everything through.
cat >"$tmp/bad.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata: {name: bad}
spec:
  replicas: "two"
  selector: {matchLabels: {a: b}}
  template:
    metadata: {labels: {a: b}}
    spec:
      containers: [{name: c, image: i, bogusField: true}]
EOF
if validate "$tmp/bad.yaml" "${KUBE_VERSIONS[-1]}" >"$tmp/out" 2>&1; then
  ko "kubeconform accepted an invalid Deployment"; cat "$tmp/out"
elif grep -q "bogusField" "$tmp/out" && grep -q "replicas" "$tmp/out"; then
  ok "kubeconform rejects an invalid Deployment"
else
  ko "kubeconform failed for another reason:"; cat "$tmp/out"
fi

sets=(default "$chart"/ci/*.yaml)
for set in "${sets[@]}"; do
  name=$(basename "$set" .yaml)
  args=()
  [ "$set" = default ] || args=(-f "$set")
  if "$helm" lint --strict "$chart" "${args[@]}" >"$tmp/out" 2>&1; then
    ok "helm lint --strict ($name)"
  else
    ko "helm lint --strict ($name)"; cat "$tmp/out"
  fi
  for kv in "${KUBE_VERSIONS[@]}"; do
    out=$tmp/$name-$kv.yaml
    if ! "$helm" template warden "$chart" --namespace warden --kube-version "$kv" "${args[@]}" >"$out" 2>"$tmp/err"; then
      ko "helm template ($name, Kubernetes $kv)"; cat "$tmp/err"; continue
    fi
    if validate "$out" "$kv" >"$tmp/out" 2>&1; then
      ok "kubeconform -strict ($name, Kubernetes $kv): $(tail -1 "$tmp/out" | sed 's/^Summary: //')"
    else
      ko "kubeconform -strict ($name, Kubernetes $kv)"; cat "$tmp/out"
    fi
  done
done

# expect NAME FILE [!]REGEX…: each regex must (or, with !, must not) match a line.
expect() {
  local name=$1 file=$2 re miss=()
  shift 2
  for re in "$@"; do
    if [ "${re:0:1}" = '!' ]; then
      grep -Eq -- "${re:1}" "$file" && miss+=("unexpected: ${re:1}")
    else
      grep -Eq -- "$re" "$file" || miss+=("missing: $re")
    fi
  done
  if [ ${#miss[@]} -eq 0 ]; then ok "renders as expected ($name)"; else ko "renders as expected ($name): ${miss[*]}"; fi
}
kv=${KUBE_VERSIONS[-1]}
expect default "$tmp/default-$kv.yaml" '^kind: Deployment$' '^kind: PodDisruptionBudget$' \
  'path: /health/live' 'path: /health/ready' 'readOnlyRootFilesystem: true' 'type: RuntimeDefault' \
  '!^kind: (StatefulSet|Job|HorizontalPodAutoscaler|ServiceMonitor|NetworkPolicy|Certificate)$' \
  '!args:.*--migrate|WARDEN_MIGRATE|WARDEN_DATABASE_URL'
expect file-mode "$tmp/file-mode-values-$kv.yaml" '^kind: Deployment$' 'name: warden-rules$' 'name: warden-rego$' \
  'WARDEN_TRINO_RULES' 'WARDEN_POLICY_DIR' 'mask.rego: \|' 'seconds: 3$' 'minAvailable: 2' \
  '!^kind: (StatefulSet|Job)$'
expect database "$tmp/database-values-$kv.yaml" '^kind: StatefulSet$' '^kind: Job$' '^kind: HorizontalPodAutoscaler$' \
  '^kind: PodDisruptionBudget$' '^kind: ServiceMonitor$' '^kind: NetworkPolicy$' '^kind: Certificate$' \
  'name: audit-spool$' 'storage: 5Gi' 'args: \[migrate, up\]' 'helm.sh/hook: pre-install,pre-upgrade' \
  'WARDEN_TLS_CLIENT_CA_FILE' 'scheme: HTTPS' 'WARDEN_AUDIT_SPOOL_DIR' 'name: warden-headless$' 'name: warden-admin$' \
  '!args:.*--migrate|WARDEN_MIGRATE' '!^  replicas:'
expect existing-secret "$tmp/existing-secret-values-$kv.yaml" '^kind: Deployment$' '^kind: Job$' 'emptyDir:' \
  'name: warden-secrets$' '!name: warden-admin$' '!^kind: Secret$' '!args:.*--migrate|WARDEN_MIGRATE'

# Warden must accept what each value set configures.
go build -o "$tmp/chartconfig" .ci/chartconfig.go || die "could not build .ci/chartconfig.go"
for set in "${sets[@]}"; do
  name=$(basename "$set" .yaml)
  if "$tmp/chartconfig" "$tmp/$name-$kv.yaml" >"$tmp/out" 2>&1; then
    ok "server/config accepts the configuration ($name): $(cat "$tmp/out")"
  else
    ko "server/config accepts the configuration ($name)"; cat "$tmp/out"
  fi
done

# Bad values must be refused, each with a message naming the problem.
refuse() { # WHAT MESSAGE-REGEX HELM-ARGS…
  local what=$1 re=$2
  shift 2
  if "$helm" template warden "$chart" "$@" >/dev/null 2>"$tmp/err"; then
    ko "refuses $what (helm template succeeded)"
  elif grep -Eq -- "$re" "$tmp/err"; then
    ok "refuses $what"
  else
    ko "refuses $what, but not with /$re/:"; cat "$tmp/err"
  fi
}
refuse "a negative replica count" "/replicaCount.*minimum" --set replicaCount=-1
refuse "an unknown value (typo)" "additional properties 'replicas'" --set replicas=2
refuse "a bad pull policy" "/image/pullPolicy" --set image.pullPolicy=Sometimes
refuse "a string port" "/ports/decision" --set-string ports.decision=http
refuse "the database URL in the ConfigMap" "/config/database_url" --set config.database_url=postgres://x
refuse "--migrate in the ConfigMap" "/config/migrate" --set config.migrate=true
refuse "the event listener token in the ConfigMap" "/config/audit/trino_events_token" --set config.audit.trino_events_token=x
refuse "a SCIM token that is not name:token" "/secrets/scimTokens/0" --set 'secrets.scimTokens[0]=justatoken'
refuse "database mode without a URL" "database.enabled needs the PostgreSQL URL" --set database.enabled=true
refuse "TLS without a certificate" "tls.enabled needs a certificate" --set tls.enabled=true
refuse "mTLS without TLS" "needs tls.enabled" --set tls.clientCA.enabled=true
refuse "file-mode policy in database mode" "policy.\* is file mode" --set database.enabled=true \
  --set secrets.databaseUrl=postgres://x --set-string policy.rulesJson=rules

echo "helm-check: $helm, kubeconform $KUBECONFORM_VERSION, Kubernetes ${KUBE_VERSIONS[*]}; $(($(date +%s) - start))s"
echo "helm-check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
