#!/usr/bin/env bash
# Builds the real-cluster toolchain from Go modules, pinned in toolchain/versions.env, into a cache
# outside the clone:
#
#   ${PERCONA_PG_OPERATOR_TOOLCHAIN_CACHE:-~/.cache/percona-pg-operator/toolchain}/<key>/bin
#
# where <key> is the first 16 hex digits of the sha256 of versions.env. Idempotent: a binary that
# is already there is not built again, so a second run takes seconds. Each binary is built into a
# temporary name and renamed into place, so an interrupted build leaves nothing half-written.
#
# Sources the Go module proxy does not serve (pulumi/pulumi's language hosts, project-planton's
# program) are read once from a git checkout named by a variable (PULUMI_SOURCE_REPO,
# PROJECT_PLANTON_SOURCE_REPO) and kept in the cache beside the binaries, as
#
#   <cache>/sources/<repository>@<commit>
#
# so a later build (another key, an emptied bin) needs no checkout.
#
# Usage: toolchain/build.sh [--print-bin] [NAME ...]
#   NAME: etcd kube kwok pulumi language-python kubernetes-provider language-yaml language-go
#         language-nodejs project-planton (default: all)
#   --print-bin: print the bin folder and exit (builds nothing)
set -euo pipefail
# A failure inside $(...) fails the build there too.
shopt -s inherit_errexit

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
versions="$here/versions.env"
# shellcheck source=versions.env
source "$versions"

key=$(sha256sum "$versions" | cut -c1-16)
cache="${PERCONA_PG_OPERATOR_TOOLCHAIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/percona-pg-operator/toolchain}"
root="$cache/$key"
bin="$root/bin"
src="$root/src"
# Upstream sources by commit, shared by every key (a commit's files never change).
sources="$cache/sources"

if [[ "${1:-}" == "--print-bin" ]]; then
  echo "$bin"
  exit 0
fi

mkdir -p "$bin" "$src" "$sources"
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod -buildvcs=false"
export CGO_ENABLED=0
# Each wrapper module below is built with the Go toolchain on this machine.
export GOTOOLCHAIN=local

log() { printf '[toolchain] %s\n' "$*" >&2; }

have() { # have NAME...: all named binaries are in bin
  local n
  for n in "$@"; do [[ -x "$bin/$n" ]] || return 1; done
}

timed() { # timed LABEL CMD...: run CMD, log how long it took
  local label=$1 start end
  shift
  start=$(date +%s)
  log "building $label ..."
  "$@"
  end=$(date +%s)
  log "built $label in $((end - start)) s"
  echo "$label $((end - start))" >>"$root/build-times.txt"
}

install_into_bin() { # install_into_bin TMPDIR: move every file of TMPDIR into bin atomically
  local f
  for f in "$1"/*; do
    chmod 0755 "$f"
    mv -f "$f" "$bin/$(basename "$f")"
  done
  rmdir "$1"
}

wrapper() { # wrapper NAME: a fresh wrapper-module folder
  local d="$src/$1"
  rm -rf "$d"
  mkdir -p "$d"
  echo "$d"
}

# --- etcd -------------------------------------------------------------------------------------
build_etcd() {
  have etcd && return 0
  local d out
  d=$(wrapper etcd)
  out=$(mktemp -d "$root/.out.XXXXXX")
  (
    cd "$d"
    # server/v3's go.mod replaces its sibling modules with ../ paths, which only work inside the
    # etcd repository: a wrapper module requires them at the same version instead.
    cat >go.mod <<EOF
module toolchain.local/etcd

go $GO_VERSION_MIN

require (
	go.etcd.io/etcd/server/v3 $ETCD_VERSION
	go.etcd.io/etcd/api/v3 $ETCD_VERSION
	go.etcd.io/etcd/client/pkg/v3 $ETCD_VERSION
	go.etcd.io/etcd/client/v3 $ETCD_VERSION
	go.etcd.io/etcd/pkg/v3 $ETCD_VERSION
)

tool go.etcd.io/etcd/server/v3
EOF
    go mod tidy
    go build -trimpath -ldflags "-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3
  )
  install_into_bin "$out"
}

# --- Kubernetes control plane ------------------------------------------------------------------
build_kube() {
  have kube-apiserver kube-controller-manager kube-scheduler && return 0
  local d out modfile minor staging
  d=$(wrapper kube)
  out=$(mktemp -d "$root/.out.XXXXXX")
  (
    cd "$d"
    go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" >/dev/null
    modfile=$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
    # Every k8s.io module the root go.mod requires at v0.0.0 lives in ./staging and is published
    # as k8s.io/X v0.<minor>.<patch>.
    staging=$(awk '$2 == "v0.0.0" && $1 ~ /^k8s\.io\// {print $1}' "$modfile" | sort -u)
    minor=${KUBERNETES_VERSION#v1.}
    {
      echo "module toolchain.local/kube"
      echo
      echo "go $GO_VERSION_MIN"
      echo
      echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
      echo
      echo "replace ("
      for m in $staging; do echo "	$m => $m v0.$minor"; done
      echo ")"
      echo
      echo "tool ("
      echo "	k8s.io/kubernetes/cmd/kube-apiserver"
      echo "	k8s.io/kubernetes/cmd/kube-controller-manager"
      echo "	k8s.io/kubernetes/cmd/kube-scheduler"
      echo ")"
    } >go.mod
    go mod tidy
    local major=1 kminor=${minor%%.*}
    local ld="-s -w"
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ld+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$kminor"
      ld+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
    done
    go build -trimpath -ldflags "$ld" -o "$out/" \
      k8s.io/kubernetes/cmd/kube-apiserver \
      k8s.io/kubernetes/cmd/kube-controller-manager \
      k8s.io/kubernetes/cmd/kube-scheduler
  )
  install_into_bin "$out"
}

# --- KWOK --------------------------------------------------------------------------------------
build_kwok() {
  have kwok && return 0
  local out
  out=$(mktemp -d "$root/.out.XXXXXX")
  GOBIN="$out" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  install_into_bin "$out"
}

# KWOK fakes nothing without stages: its own "fast" node and pod stages (kustomize/stage in the
# module, the ones kwokctl uses by default), copied beside the binary.
kwok_stages() {
  [[ -s "$root/share/kwok-stages.yaml" ]] && return 0
  local moddir tmp f
  moddir=$(cd "$src" && go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  mkdir -p "$root/share"
  tmp=$(mktemp "$root/share/.stages.XXXXXX")
  for f in node/fast/node-initialize.yaml pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml \
    pod/fast/pod-delete.yaml; do
    printf -- '---\n' >>"$tmp"
    cat "$moddir/kustomize/stage/$f" >>"$tmp"
  done
  mv -f "$tmp" "$root/share/kwok-stages.yaml"
}

# --- Pulumi CLI and the Python SDK's scripts ---------------------------------------------------
pulumi_wrapper_mod() { # the go.mod shared by the CLI and the language host wrappers
  cat <<EOF
module toolchain.local/$1

go $GO_VERSION_MIN

require (
	github.com/pulumi/pulumi/pkg/v3 $PULUMI_VERSION
	github.com/pulumi/pulumi/sdk/v3 $PULUMI_VERSION
)

// pkg/v3's own go.mod has this replace; replaces of a dependency do not apply to its users.
replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e
EOF
}

build_pulumi() {
  have pulumi && return 0
  local d out
  d=$(wrapper pulumi)
  out=$(mktemp -d "$root/.out.XXXXXX")
  (
    cd "$d"
    pulumi_wrapper_mod pulumi >go.mod
    printf '\ntool github.com/pulumi/pulumi/pkg/v3/cmd/pulumi\n' >>go.mod
    go mod tidy
    # Without the version the Automation API's minimum-version check refuses the CLI.
    go build -trimpath \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
      -o "$out/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  )
  install_into_bin "$out"
}

# upstream_tree REPO COMMIT VAR PREFIX...: print the folder holding REPO's files at COMMIT under
# the PREFIXes (Go sources, go.mod and go.sum; no tests), kept in $sources/<REPO>@<COMMIT>. The
# first time they are read from the git checkout that the variable VAR names (a bare git dir is
# fine); blobs the checkout lacks are skipped (a partial snapshot lacks some generated files no
# build here needs, and a missing one a build does need fails that build by name).
upstream_tree() {
  local repo=$1 commit=$2 var=$3
  shift 3
  local dir="$sources/${repo/\//+}@$commit" checkout tmp path kind
  if [[ -f "$dir/.complete" ]]; then
    echo "$dir"
    return 0
  fi
  checkout=${!var:-}
  if [[ -z "$checkout" ]] || ! git -C "$checkout" cat-file -e "$commit^{commit}" 2>/dev/null; then
    log "this needs the sources of github.com/$repo at commit $commit, once:"
    log "  a git checkout holding that commit (a clone, or a bare mirror), named by $var:"
    log "  git clone https://github.com/$repo && $var=\$PWD/${repo#*/} toolchain/build.sh"
    log "(they are kept in $sources after that; ${var}${checkout:+=$checkout} has no such commit)"
    return 1
  fi
  tmp=$(mktemp -d "$sources/.tree.XXXXXX")
  git -C "$checkout" ls-tree -r --name-only "$commit" -- "$@" |
    grep -E '(\.go|/go\.mod|/go\.sum|^go\.mod|^go\.sum)$' | grep -vE '_test\.go$|/testdata/' |
    sed "s|.*|$commit:& &|" | git -C "$checkout" cat-file --batch-check='%(objecttype) %(rest)' |
    while read -r kind path; do
      [[ "$kind" == blob ]] || continue
      mkdir -p "$tmp/$(dirname "$path")"
      git -C "$checkout" cat-file blob "$commit:$path" >"$tmp/$path"
    done
  touch "$tmp/.complete"
  rm -rf "$dir"
  mv "$tmp" "$dir"
  echo "$dir"
}

# The language hosts of pulumi/pulumi at this commit: built against pkg/v3 and sdk/v3 at
# PULUMI_VERSION (their go.mod replaces both with ../ paths of the repository).
pulumi_tree() {
  upstream_tree pulumi/pulumi "$PULUMI_LANGUAGE_PYTHON_COMMIT" PULUMI_SOURCE_REPO \
    sdk/python/cmd/pulumi-language-python sdk/go/pulumi-language-go sdk/nodejs/cmd/pulumi-language-nodejs
}

build_language_python() {
  have pulumi-language-python pulumi-language-python-exec pulumi-resource-pulumi-python && return 0
  local d out tree sdkdir
  tree=$(pulumi_tree)
  d=$(wrapper language-python)
  out=$(mktemp -d "$root/.out.XXXXXX")
  (
    cd "$d"
    pulumi_wrapper_mod language-python >go.mod
    cp "$tree/sdk/python/cmd/pulumi-language-python/main.go" main.go
    go mod tidy
    go build -trimpath \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
      -o "$out/pulumi-language-python" .
    # The host runs the program through this script, and the dynamic provider (the verification)
    # through the other; both are plain files of the sdk/v3 module.
    sdkdir=$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)
    cp "$sdkdir/python/cmd/pulumi-language-python-exec" "$out/"
    cp "$sdkdir/python/dist/pulumi-resource-pulumi-python" "$out/"
  )
  install_into_bin "$out"
}

# host_module DIR NAME: build the language host module copied from the pulumi tree's DIR as NAME
# into a fresh output folder (printed), against pkg/v3 and sdk/v3 at PULUMI_HOSTS_SDK_VERSION.
host_module() {
  local dir=$1 name=$2 tree d out
  tree=$(pulumi_tree)
  d=$(wrapper "$name")
  out=$(mktemp -d "$root/.out.XXXXXX")
  (
    cd "$d"
    cp -r "$tree/$dir/." .
    go mod edit \
      -dropreplace=github.com/pulumi/pulumi/pkg/v3 -dropreplace=github.com/pulumi/pulumi/sdk/v3 \
      -require="github.com/pulumi/pulumi/pkg/v3@$PULUMI_HOSTS_SDK_VERSION" \
      -require="github.com/pulumi/pulumi/sdk/v3@$PULUMI_HOSTS_SDK_VERSION"
    go mod tidy
    go build -trimpath \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_HOSTS_SDK_VERSION" \
      -o "$out/$name" .
  ) >&2
  echo "$out"
}

# --- Go and Node.js language hosts -------------------------------------------------------------
# The TypeScript and Go programs of tests/e2e use the component package through them. Their Go
# modules (sdk/go/pulumi-language-go/v3, sdk/nodejs/cmd/pulumi-language-nodejs/v3) are refused by
# the Go module proxy here as the Python host's is.
build_language_go() {
  have pulumi-language-go && return 0
  local out
  out=$(host_module sdk/go/pulumi-language-go pulumi-language-go)
  install_into_bin "$out"
}

build_language_nodejs() {
  have pulumi-language-nodejs && return 0
  local out
  out=$(host_module sdk/nodejs/cmd/pulumi-language-nodejs pulumi-language-nodejs)
  install_into_bin "$out"
}

# --- project-planton's program for this kind ---------------------------------------------------
# Upstream's Go module (github.com/plantonhq/project-planton) is not served by the proxy; its
# program is built from the fetched source, unmodified, with every dependency from the proxy.
# tests/e2e/test_local_upstream.py deploys with it and moves the stack to this package.
build_project_planton() {
  have project-planton-kubernetesperconapostgresoperator && return 0
  local tree d out
  tree=$(upstream_tree project-planton/project-planton "$PROJECT_PLANTON_COMMIT" \
    PROJECT_PLANTON_SOURCE_REPO go.mod go.sum apis/org/project_planton/provider/kubernetes \
    apis/org/project_planton/shared pkg)
  d=$(wrapper project-planton)
  out=$(mktemp -d "$root/.out.XXXXXX")
  (
    cd "$d"
    cp -r "$tree/." .
    go build -trimpath -ldflags "-s -w" -o "$out/project-planton-kubernetesperconapostgresoperator" \
      "./$PROJECT_PLANTON_PROGRAM"
  )
  install_into_bin "$out"
}

# --- Pulumi YAML language host ---------------------------------------------------------------
build_language_yaml() {
  have pulumi-language-yaml && return 0
  local out
  out=$(mktemp -d "$root/.out.XXXXXX")
  GOBIN="$out" go install -trimpath \
    -ldflags "-s -w -X github.com/pulumi/pulumi-yaml/pkg/version.Version=${PULUMI_YAML_VERSION#v}" \
    "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml@$PULUMI_YAML_VERSION"
  install_into_bin "$out"
}

# --- pulumi-kubernetes provider ----------------------------------------------------------------
build_kubernetes_provider() {
  have pulumi-resource-kubernetes && return 0
  local d out moddir
  d=$(wrapper kubernetes-provider)
  out=$(mktemp -d "$root/.out.XXXXXX")
  (
    cd "$d"
    moddir=$(go mod download -json \
      "github.com/pulumi/pulumi-kubernetes/provider/v4@$PULUMI_KUBERNETES_MODULE_VERSION" |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
    # The provider embeds schema-embed.json and terraform-mapping-embed.json, which its repository
    # generates (and gitignores): copy the module, drop the ../sdk replace, generate them.
    cp -r "$moddir/." .
    chmod -R u+w .
    sed -i '/^replace github.com\/pulumi\/pulumi-kubernetes\/sdk\/v4 => /d' go.mod
    go mod tidy
    (cd cmd/pulumi-resource-kubernetes && VERSION="$PULUMI_KUBERNETES_VERSION" go run generate.go)
    go build -trimpath \
      -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$PULUMI_KUBERNETES_VERSION" \
      -o "$out/pulumi-resource-kubernetes" ./cmd/pulumi-resource-kubernetes
  )
  install_into_bin "$out"
}

# What each name builds: it is skipped when all of its binaries are there.
declare -A provides=(
  [etcd]="etcd"
  [kube]="kube-apiserver kube-controller-manager kube-scheduler"
  [kwok]="kwok"
  [pulumi]="pulumi"
  [language-python]="pulumi-language-python pulumi-language-python-exec pulumi-resource-pulumi-python"
  [kubernetes-provider]="pulumi-resource-kubernetes"
  [language-yaml]="pulumi-language-yaml"
  [language-go]="pulumi-language-go"
  [language-nodejs]="pulumi-language-nodejs"
  [project-planton]="project-planton-kubernetesperconapostgresoperator"
)
all=(etcd kube kwok pulumi language-python kubernetes-provider language-yaml language-go
  language-nodejs project-planton)
names=("$@")
[[ ${#names[@]} -gt 0 ]] || names=("${all[@]}")
log "cache: $bin"
for n in "${names[@]}"; do
  if [[ -z "${provides[$n]:-}" ]]; then
    log "unknown name: $n (one of: ${all[*]})"
    exit 2
  fi
  # shellcheck disable=SC2086
  if have ${provides[$n]}; then
    log "cached: $n"
  else
    timed "$n" "build_${n//-/_}"
  fi
  [[ "$n" == kwok ]] && kwok_stages
done
log "done: $(ls "$bin" | tr '\n' ' ')"
