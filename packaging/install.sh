#!/usr/bin/env bash
# Installs reaper on this node, or (as uninstall.sh, or with --uninstall)
# removes exactly what an earlier install added.
#
#   install.sh [--binary PATH] [--prefix P] [--config-dir D] [--state-dir D]
#              [--containerd-config F] [--containerd-version V] [--runtime-name N]
#              [--no-binary] [--no-config] [--no-containerd]
#              [--restart-containerd] [--dry-run]
#   install.sh --print-default-config
#   uninstall.sh [--state-dir D] [--restart-containerd] [--dry-run]
#
# What install does, each step only when needed (a second run changes nothing):
#   1. copies the static binary to P/bin/reaper (default P=/usr/local), by
#      temp file + rename, so processes running the old binary keep its inode;
#   2. creates the symlinks containerd-shim-reaper-v2, reaper-runtime and
#      reaper-monitor beside it;
#   3. writes D/reaper.conf (default /etc/reaper) if it does not exist: every
#      key commented out at its default (docs/configuration.md);
#   4. adds the runtime `reaper-v2` (runtime_type io.containerd.reaper.v2,
#      pod_annotations reaper.runtime/*) to containerd's config, in the
#      format of that config's `version` (1, 2 for containerd 1.6/1.7, 3 for
#      2.x), or of the installed containerd's version for a new file. The
#      table is appended between marker comments; nothing else in the file
#      changes. A backup (F.reaper-backup.<time>) is kept beside it;
#   5. restarts containerd (systemctl) only with --restart-containerd;
#   6. records what it created in D/install.manifest (default
#      /var/lib/reaper), which uninstall reads: it removes the marker block
#      (restoring the file byte for byte), the symlinks, the binary, the
#      config file if nobody edited it, and the directories it created.
#
# A runtimes table in containerd's file replaces containerd's built-in list
# of runtimes instead of extending it. So where the file defines no runtime,
# the block also repeats containerd's default ones (from `containerd config
# default`), or the default runtime `runc` would disappear.
#
# python3 (>= 3.11, tomllib) is used, where present, to read the config and to
# check that the new file is the old one plus the runtime; a containerd of the
# config's major version, where present, checks it too (`config dump`).
set -euo pipefail
shopt -s inherit_errexit

# ---------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mode=install
prog=install.sh

binary=""
prefix=/usr/local
config_dir=/etc/reaper
state_dir=/var/lib/reaper
ctrd_config=/etc/containerd/config.toml
ctrd_version=""
runtime=reaper-v2
do_binary=1 do_config=1 do_containerd=1
restart=0 dry_run=0

runtime_type=io.containerd.reaper.v2
personalities=(containerd-shim-reaper-v2 reaper-runtime reaper-monitor)
manifest_header="# reaper install manifest, format 1: what install.sh created; uninstall.sh removes exactly these (tab-separated)"

die() { echo "$prog: error: $*" >&2; exit 1; }
warn() { echo "$prog: warning: $*" >&2; }
say() { echo "$prog: $*"; }

usage() {
  cat <<EOF
usage: install.sh [options]          install reaper on this node
       uninstall.sh [options]        remove what install.sh added

  --binary PATH            the static reaper executable (default: reaper beside this script)
  --prefix P               install P/bin/reaper and its symlinks (default /usr/local)
  --config-dir D           where reaper.conf goes (default /etc/reaper)
  --state-dir D            where the install manifest is kept (default /var/lib/reaper)
  --containerd-config F    containerd's config file (default /etc/containerd/config.toml)
  --containerd-version V   containerd's version (e.g. 1.7.2, 2.0.0) when the file has
                           no \`version\` and \`containerd --version\` cannot tell
  --runtime-name N         the CRI runtime handler name (default reaper-v2)
  --no-binary              skip the binary and symlinks
  --no-config              skip reaper.conf
  --no-containerd          leave containerd's config alone
  --restart-containerd     restart containerd (systemctl) if it has not loaded the change
  --dry-run                print what would change, change nothing
  --print-default-config   print the default reaper.conf and exit
  --uninstall              act as uninstall.sh
  -h, --help
EOF
}

parse_args() {
  while (($#)); do
    case $1 in
      --binary | --prefix | --config-dir | --state-dir | --containerd-config | \
        --containerd-version | --runtime-name)
        (($# >= 2)) || die "$1 needs a value"
        case $1 in
          --binary) binary=$2 ;;
          --prefix) prefix=$2 ;;
          --config-dir) config_dir=$2 ;;
          --state-dir) state_dir=$2 ;;
          --containerd-config) ctrd_config=$2 ;;
          --containerd-version) ctrd_version=$2 ;;
          --runtime-name) runtime=$2 ;;
        esac
        shift 2
        continue
        ;;
      --no-binary) do_binary=0 ;;
      --no-config) do_config=0 ;;
      --no-containerd) do_containerd=0 ;;
      --restart-containerd) restart=1 ;;
      --dry-run) dry_run=1 ;;
      --uninstall) mode=uninstall ;;
      --print-default-config) default_config; exit 0 ;;
      -h | --help) usage; exit 0 ;;
      *) usage >&2; die "unknown argument \`$1\`" ;;
    esac
    shift
  done
  [[ $runtime =~ ^[A-Za-z0-9_-]+$ ]] || die "--runtime-name \`$runtime\`: only letters, digits, _ and - (a bare TOML key)"
  local p
  for p in "$prefix" "$config_dir" "$state_dir" "$ctrd_config"; do
    [[ $p == /* ]] || die "\`$p\`: paths must be absolute"
    [[ $p != *$'\t'* && $p != *$'\n'* ]] || die "\`$p\`: paths must not contain tabs or newlines"
  done
  [[ $mode == install ]] || return 0
  if ((do_binary)) && [[ -z $binary ]]; then
    [[ -f $here/reaper ]] || die "no --binary given and no reaper beside $here/$prog"
    binary=$here/reaper
  fi
}

default_config() {
  cat <<'EOF'
# reaper's node configuration (docs/configuration.md). KEY=VALUE, one per line;
# the environment of containerd (passed on to the shim) or of reaper-runtime
# wins over this file. Unknown keys are errors. Every key below is shown
# commented out at its default.
#
# State root: one directory per container, overlay groups, namespaces.
#REAPER_RUNTIME_ROOT=/run/reaper
# Log files of the runtime CLI and monitors, and of the shim (the shim also
# logs to containerd's log).
#REAPER_RUNTIME_LOG=
#REAPER_SHIM_LOG=
# Overlay view of the host: one per Kubernetes namespace, or one per node.
#REAPER_OVERLAY_ENABLED=true
#REAPER_OVERLAY_ISOLATION=namespace
#REAPER_OVERLAY_BASE=/run/reaper/overlay
#REAPER_OVERLAY_NS_DIR=/run/reaper/ns
# Masking of sensitive host paths in the view (append|replace; ':'-separated).
#REAPER_FILTER_ENABLED=true
#REAPER_FILTER_MODE=append
#REAPER_FILTER_PATHS=
#REAPER_FILTER_ALLOWLIST=
# DNS of workloads: host | kubernetes
#REAPER_DNS_MODE=host
# Pod annotations reaper.runtime/<name> honoured (dns-mode, overlay-name).
#REAPER_ANNOTATIONS_ENABLED=true
#REAPER_ANNOTATIONS_ALLOWLIST=dns-mode,overlay-name
# Put workloads in the cgroup kubelet asks for: enabled | disabled
#REAPER_CGROUPS=enabled
EOF
}

# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------
changes=0
changed() { changes=$((changes + 1)); say "$*"; }

sha256() { sha256sum "$1" | cut -d' ' -f1; }

# read_file FILE VAR: the exact bytes of a text file into VAR (a trailing
# newline included, unlike $(<FILE)).
read_file() {
  local -n _out=$2
  _out=""
  IFS= read -r -d '' _out <"$1" || true
}

# write_atomic FILE MODE_REF: stdin into FILE by temp file + rename, with the
# mode and owner of MODE_REF when it exists (else 0644 root).
write_atomic() {
  local file=$1 ref=${2:-} tmp
  tmp=$(mktemp "$(dirname "$file")/.$(basename "$file").XXXXXX")
  if ! cat >"$tmp"; then rm -f "$tmp"; die "cannot write $tmp"; fi
  if [[ -n $ref && -e $ref ]]; then
    chmod --reference="$ref" "$tmp" && chown --reference="$ref" "$tmp"
  else
    chmod 0644 "$tmp"
  fi
  mv -f "$tmp" "$file" || { rm -f "$tmp"; die "cannot rename $tmp to $file"; }
}

# ensure_dir DIR: creates DIR and its missing parents, recording each.
ensure_dir() {
  local d=$1 missing=()
  while [[ ! -d $d ]]; do
    [[ -e $d ]] && die "$d exists and is not a directory"
    missing=("$d" "${missing[@]}")
    d=$(dirname "$d")
  done
  for d in "${missing[@]}"; do
    if ((dry_run)); then changed "would create directory $d"; continue; fi
    mkdir -m 0755 "$d" || die "cannot create directory $d"
    manifest_add dir "$d"
    changed "created directory $d"
  done
}

have_tomllib() { command -v python3 >/dev/null && python3 -c 'import tomllib' 2>/dev/null; }

# An awk function: a [table] header line without brackets, blanks, quotes
# and trailing comment, e.g. plugins.io.containerd.grpc.v1.cri.containerd.
# (Good for header lines as containerd writes them and as people write them;
# keys holding dots inside quotes are not told apart.)
# shellcheck disable=SC2016
awk_norm='function header(s) { sub(/^[[:space:]]*\[+/, "", s); sub(/\].*$/, "", s); gsub(/[[:space:]"\047]/, "", s); return s }'

# ---------------------------------------------------------------------------
# The manifest: one entry per line, TYPE<TAB>PATH[<TAB>...], in the order
# things were created; uninstall undoes them in reverse order.
# ---------------------------------------------------------------------------
manifest=()
manifest_file() { echo "$state_dir/install.manifest"; }

manifest_load() {
  local f line
  f=$(manifest_file)
  manifest=()
  [[ -f $f ]] || return 0
  { IFS= read -r line && [[ $line == "$manifest_header" ]]; } <"$f" ||
    die "$f: not a reaper install manifest (format 1); remove it or pick another --state-dir"
  while IFS= read -r line; do
    [[ -z $line || $line == \#* ]] || manifest+=("$line")
  done <"$f"
}

# manifest_has TYPE PATH: the entry recording TYPE PATH, if any, on stdout.
manifest_has() {
  local e
  for e in "${manifest[@]}"; do
    [[ $e == "$1"$'\t'"$2" || $e == "$1"$'\t'"$2"$'\t'* ]] && { echo "$e"; return 0; }
  done
  return 1
}

manifest_add() {  # manifest_add TYPE PATH [FIELD...]: replaces an entry for TYPE PATH
  local entry kept=() e
  entry=$(IFS=$'\t'; echo "$*")
  for e in "${manifest[@]}"; do
    if [[ $e == "$1"$'\t'"$2" || $e == "$1"$'\t'"$2"$'\t'* ]]; then kept+=("$entry"); entry=""; else kept+=("$e"); fi
  done
  [[ -z $entry ]] || kept+=("$entry")
  manifest=("${kept[@]}")
}

manifest_save() {
  local f current="" wanted e
  f=$(manifest_file)
  ((${#manifest[@]})) || return 0
  wanted=$manifest_header$'\n'
  for e in "${manifest[@]}"; do wanted+=$e$'\n'; done
  [[ -f $f ]] && read_file "$f" current
  [[ $current == "$wanted" ]] && return 0
  ((dry_run)) && return 0
  printf '%s' "$wanted" | write_atomic "$f" "$f"
}

# ---------------------------------------------------------------------------
# Binary, symlinks, reaper.conf
# ---------------------------------------------------------------------------
install_binary() {
  local bindir=$prefix/bin dest=$prefix/bin/reaper out
  [[ -f $binary ]] || die "--binary $binary: no such file"
  # Asked under the name `reaper`: it dispatches on its name, whatever the file is called.
  if ! out=$(exec -a reaper "$binary" --version 2>&1) || [[ $out != "reaper version "* ]]; then
    die "$binary --version did not answer \`reaper version ...\` (not a reaper binary for this machine?): ${out:-no output}"
  fi
  ensure_dir "$bindir"
  if [[ -f $dest ]] && cmp -s "$binary" "$dest"; then
    say "unchanged: $dest (${out%%$'\n'*})"
  elif ((dry_run)); then
    changed "would install $binary as $dest"
  else
    local tmp
    tmp=$(mktemp "$bindir/.reaper.XXXXXX")
    if ! { cp "$binary" "$tmp" && chmod 0755 "$tmp" && mv -f "$tmp" "$dest"; }; then
      rm -f "$tmp"
      die "cannot install $binary as $dest"
    fi
    manifest_add binary "$dest"
    changed "installed $dest (${out%%$'\n'*})"
  fi
  local name link
  for name in "${personalities[@]}"; do
    link=$bindir/$name
    if [[ -L $link && $(readlink "$link") == reaper ]]; then
      say "unchanged: $link -> reaper"
      continue
    fi
    if [[ -L $link ]]; then
      die "$link exists and points to \`$(readlink "$link")\`, not reaper; move it away first"
    elif [[ -e $link ]]; then
      die "$link exists and is not a symlink to reaper ($(stat -c %F "$link")); move it away first"
    fi
    if ((dry_run)); then changed "would create $link -> reaper"; continue; fi
    ln -s reaper "$link" || die "cannot create symlink $link"
    manifest_add link "$link"
    changed "created $link -> reaper"
  done
}

install_config() {
  local conf=$config_dir/reaper.conf
  if [[ -e $conf ]]; then
    say "unchanged: $conf (exists; never overwritten)"
    return 0
  fi
  ensure_dir "$config_dir"
  if ((dry_run)); then changed "would write $conf"; return 0; fi
  default_config | write_atomic "$conf"
  manifest_add config "$conf" "$(sha256 "$conf")"
  changed "wrote $conf (defaults, all commented out)"
}

# ---------------------------------------------------------------------------
# containerd's config
# ---------------------------------------------------------------------------
# The CRI runtimes of each config format live under these plugin ids.
plugin_id() {
  case $1 in
    1) echo cri ;;
    2) echo io.containerd.grpc.v1.cri ;;
    3) echo io.containerd.cri.v1.runtime ;;
    *) die "unsupported containerd config version \`$1\` (1, 2 or 3)" ;;
  esac
}
plugin_key() { [[ $1 == 1 ]] && echo "plugins.cri" || echo "plugins.\"$(plugin_id "$1")\""; }
runtimes_key() { echo "$(plugin_key "$1").containerd.runtimes"; }
begin_marker() { echo "# BEGIN reaper runtime $runtime: added by reaper's install.sh, removed by its uninstall.sh"; }
end_marker() { echo "# END reaper runtime $runtime"; }

# containerd_major: major version of the installed containerd, or empty.
containerd_major() {
  local out v
  if [[ -n $ctrd_version ]]; then v=$ctrd_version
  else
    command -v containerd >/dev/null || return 0
    out=$(containerd --version 2>/dev/null) || return 0
    # "containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3"
    # "containerd containerd.io v2.0.0 207ad71..."
    v=$(awk '{ for (i = 2; i <= NF; i++) if ($i ~ /^v?[0-9]+\.[0-9]+/) { print $i; exit } }' <<<"$out")
  fi
  v=${v#v}
  [[ $v =~ ^([0-9]+)\. ]] || die "cannot read a version in \`${out:-$v}\` (use --containerd-version X.Y.Z)"
  echo "${BASH_REMATCH[1]}"
}
format_of_major() { (($1 >= 2)) && echo 3 || echo 2; }

# toml_facts FILE: key=value lines about FILE: version (empty if none),
# content (0|1: any key or table), ours (runtime_type of our runtime or
# empty), runtimes (0|1: the file defines the CRI runtimes table).
toml_facts() {
  local file=$1
  if have_tomllib; then
    python3 - "$file" "$runtime" <<'PY' || exit 1
import sys, tomllib
path, runtime = sys.argv[1], sys.argv[2]
try:
    with open(path, "rb") as f:
        doc = tomllib.load(f)
except (OSError, tomllib.TOMLDecodeError) as e:
    sys.exit(f"install.sh: error: {path} is not valid TOML ({e}); containerd would refuse it too: fix it first")
version = doc.get("version", "")
if version != "" and not isinstance(version, int):
    sys.exit(f"install.sh: error: {path}: `version` is not an integer")
fmt = version if version != "" else (1 if doc else 0)
plugin = {1: "cri", 2: "io.containerd.grpc.v1.cri", 3: "io.containerd.cri.v1.runtime"}.get(fmt)
runtimes = None
if plugin:
    node = doc
    for key in ("plugins", plugin, "containerd", "runtimes"):
        node = node.get(key) if isinstance(node, dict) else None
    runtimes = node
ours = runtimes.get(runtime) if isinstance(runtimes, dict) else None
disabled = doc.get("disabled_plugins", [])
cri_disabled = isinstance(disabled, list) and any(
    d in ("cri", "io.containerd.grpc.v1.cri", plugin) for d in disabled)
print(f"version={version}")
print(f"content={1 if doc else 0}")
print(f"cri_disabled={1 if cri_disabled else 0}")
print(f"runtimes={1 if runtimes is not None else 0}")
if ours is not None:
    print(f"ours={ours.get('runtime_type', '(none)') if isinstance(ours, dict) else '(not a table)'}")
else:
    print("ours=")
PY
    return 0
  fi
  # Without a TOML parser: the top-level version (before the first table),
  # and the table headers. Good for files containerd or a human wrote with
  # one [table] header per table.
  local version content fmt
  version=$(awk '/^[[:space:]]*\[/ { exit } /^[[:space:]]*version[[:space:]]*=/ { sub(/^[^=]*=[[:space:]]*/, ""); sub(/[^0-9].*/, ""); print; exit }' "$file")
  content=$(grep -qvE '^[[:space:]]*(#.*)?$' "$file" && echo 1 || echo 0)
  fmt=${version:-$content}
  echo "version=$version"
  echo "content=$content"
  if grep -qE '^[[:space:]]*disabled_plugins[[:space:]]*=.*["'"'"'](cri|io\.containerd\.grpc\.v1\.cri|io\.containerd\.cri\.v1\.runtime)["'"'"']' "$file"; then
    echo "cri_disabled=1"
  else
    echo "cri_disabled=0"
  fi
  if ((fmt == 0)); then
    printf 'runtimes=0\nours=\n'
    return 0
  fi
  awk -v base="plugins.$(plugin_id "$fmt").containerd.runtimes" -v rt="$runtime" "$awk_norm"'
    /^[[:space:]]*\[/ { h = header($0)
                        if (h == base || index(h, base ".") == 1) runtimes = 1
                        inside = (h == base "." rt); if (inside) ours = "(none)"; next }
    /^[[:space:]]*runtimes[[:space:]]*[.=]/ { runtimes = 1 }
    inside && /^[[:space:]]*runtime_type[[:space:]]*=/ {
      v = $0; sub(/^[^=]*=[[:space:]]*["'\'']?/, "", v); sub(/["'\''].*/, "", v); ours = v }
    END { print "runtimes=" (runtimes ? 1 : 0); print "ours=" ours }' "$file"
}

# default_runtimes FORMAT: containerd's built-in CRI runtimes as TOML tables
# for a config of FORMAT, from `containerd config default` when the installed
# containerd writes that format (containerd 1.x writes version 2; a version 1
# file names the plugin `cri`); else the built-in default, runc.
default_runtimes() {
  local fmt=$1 major want out=""
  major=$(containerd_major)
  if [[ -n $major && -z $ctrd_version ]]; then
    want=$(format_of_major "$major")
    if [[ $want == "$fmt" || ($fmt == 1 && $want == 2) ]]; then
      out=$(containerd config default 2>/dev/null | awk -v from="plugins.$(plugin_id "$want").containerd.runtimes." \
        -v to="$(runtimes_key "$fmt")." "$awk_norm"'
        /^[[:space:]]*\[/ { h = header($0); inside = (index(h, from) == 1)
                            if (inside) print "[" to substr(h, length(from) + 1) "]"; next }
        inside && !/^[[:space:]]*$/ { sub(/^[[:space:]]+/, ""); print "  " $0 }') || out=""
    fi
  fi
  if [[ -n $out ]]; then
    echo "$out"
    return 0
  fi
  warn "containerd's own default runtimes are not available for a version $fmt config: repeating only runc's runtime_type"
  printf '[%s.runc]\n  runtime_type = "io.containerd.runc.v2"\n' "$(runtimes_key "$fmt")"
}

# block FORMAT VERSION_LINE DEFAULTS: the text install appends.
block() {
  local fmt=$1 version_line=$2 defaults=$3
  begin_marker
  [[ -z $version_line ]] || printf 'version = %s\n' "$fmt"
  if ((defaults)); then
    echo "# containerd's default runtimes, repeated: a runtimes table in this file"
    echo "# replaces containerd's built-in list instead of extending it."
    default_runtimes "$fmt"
  fi
  printf '[%s.%s]\n' "$(runtimes_key "$fmt")" "$runtime"
  printf '  runtime_type = "%s"\n' "$runtime_type"
  echo '  # reaper.runtime/dns-mode and reaper.runtime/overlay-name (docs/configuration.md)'
  echo '  pod_annotations = ["reaper.runtime/*"]'
  end_marker
}

# verify_config ORIG NEW FORMAT ADDED...: NEW must be ORIG plus the runtimes
# ADDED, checked by python's tomllib and by containerd itself where each is
# available. ORIG may be /dev/null (new file).
verify_config() {
  local orig=$1 new=$2 fmt=$3 checked=0 checked_by=""
  shift 3
  if have_tomllib; then
    python3 - "$orig" "$new" "$fmt" "$runtime" "$runtime_type" "$@" <<'PY' || exit 1
import sys, tomllib
orig_path, new_path, fmt, runtime, rtype, *added = sys.argv[1:]
plugin = {"1": "cri", "2": "io.containerd.grpc.v1.cri", "3": "io.containerd.cri.v1.runtime"}[fmt]
def load(p):
    with open(p, "rb") as f:
        return tomllib.load(f)
try:
    new = load(new_path)
except tomllib.TOMLDecodeError as e:
    sys.exit(f"install.sh: error: appending the [{plugin}...runtimes.{runtime}] table would make the file invalid TOML ({e}).\n"
             f"  The CRI runtimes (or a table above them) are probably written as an inline table; add the runtime by hand.")
orig = load(orig_path)
rts = new.get("plugins", {}).get(plugin, {}).get("containerd", {}).get("runtimes", {})
if rts.get(runtime, {}).get("runtime_type") != rtype:
    sys.exit(f"install.sh: error: check failed: {new_path} has no runtime {runtime} with runtime_type {rtype}")
for name in added:
    rts.pop(name, None)
if "version" not in orig and "version" in new:
    del new["version"]
def prune(d):
    return {k: prune(v) if isinstance(v, dict) else v for k, v in d.items()
            if not (isinstance(v, dict) and not prune(v))}
if prune(new) != prune(orig):
    sys.exit(f"install.sh: error: check failed: {new_path} is not {orig_path} plus the runtime (a bug; nothing was changed)")
PY
    checked=1 checked_by="python3 tomllib"
  fi
  local major
  major=$(containerd_major)
  # (containerd's dump leaves out the plugins a file disables.)
  if ((!cri_disabled)) && [[ -n $major && -z $ctrd_version ]] &&
    { [[ $fmt == 3 ]] && ((major >= 2)) || { [[ $fmt != 3 ]] && ((major < 2)); }; }; then
    local before after want
    before=$(containerd_runtimes "$orig") || die "check: \`containerd config dump\` rejects the current $ctrd_config"
    after=$(containerd_runtimes "$new") || die "check: \`containerd config dump\` rejects the new config (left unchanged); see above"
    want=$(printf '%s\n' "$before" "$runtime=$runtime_type" | sed '/^$/d' | sort -u)
    [[ $after == "$want" ]] ||
      die "check: containerd reads the new config's runtimes as [${after//$'\n'/ }], expected [${want//$'\n'/ }]; nothing was changed"
    checked=1 checked_by="${checked_by:+$checked_by, }containerd config dump"
  fi
  if ((checked)); then
    say "checked the new config: it is the old one plus the runtime ($checked_by)"
  else
    warn "neither python3 >= 3.11 nor a containerd reading version $fmt configs is here: the new config is not checked by a parser"
  fi
}

# containerd_runtimes FILE: NAME=RUNTIME_TYPE of each CRI runtime containerd
# reads from FILE (/dev/null: its defaults), sorted.
containerd_runtimes() {
  local file=$1 dump
  if [[ $file == /dev/null ]]; then
    dump=$(containerd config default 2>&1) || { echo "$dump" >&2; return 1; }
  else
    dump=$(containerd --config "$file" config dump 2>&1) || { echo "$dump" >&2; return 1; }
  fi
  awk "$awk_norm"'
    /^[[:space:]]*\[/ { h = header($0); name = ""
                        for (i = 1; i <= 2; i++) {
                          p = (i == 1 ? "plugins.io.containerd.grpc.v1.cri" : "plugins.io.containerd.cri.v1.runtime") ".containerd.runtimes."
                          if (index(h, p) == 1 && index(substr(h, length(p) + 1), ".") == 0) name = substr(h, length(p) + 1)
                        }
                        next }
    name != "" && /^[[:space:]]*runtime_type[[:space:]]*=/ {
      t = $0; sub(/^[^=]*=[[:space:]]*["'\'']/, "", t); sub(/["'\''].*/, "", t); print name "=" t }' <<<"$dump" | sort -u
}

install_containerd() {
  local file=$ctrd_config exists=1
  [[ -L $file ]] && file=$(readlink -f "$file")
  [[ -e $file ]] || exists=0
  [[ $exists == 0 || -f $file ]] || die "$file is not a regular file"

  local facts version content runtimes ours cri_disabled
  if ((exists)); then facts=$(toml_facts "$file") || exit 1
  else facts=$'version=\ncontent=0\ncri_disabled=0\nruntimes=0\nours='; fi
  version=$(sed -n 's/^version=//p' <<<"$facts")
  content=$(sed -n 's/^content=//p' <<<"$facts")
  runtimes=$(sed -n 's/^runtimes=//p' <<<"$facts")
  ours=$(sed -n 's/^ours=//p' <<<"$facts")
  cri_disabled=$(sed -n 's/^cri_disabled=//p' <<<"$facts")
  ((cri_disabled)) && warn "$file disables containerd's CRI plugin (disabled_plugins): Kubernetes cannot use this containerd; adding the runtime anyway"

  # Which format: the file's own `version`; a file with content but no
  # version is a version 1 config (so containerd reads it); an empty or
  # missing file gets the format of the installed containerd.
  local fmt major version_line=""
  major=$(containerd_major)
  if [[ -n $version ]]; then
    fmt=$version
    plugin_id "$fmt" >/dev/null
    if [[ -n $major ]] && ((fmt == 3 && major < 2)); then
      warn "$file is a version 3 config (containerd 2.x), but containerd here is $major.x, which cannot read it"
    fi
  elif ((content)); then
    fmt=1
    say "$file has no \`version\`: containerd reads it as a version 1 config; adding the runtime in that format"
  else
    [[ -n $major ]] || die "cannot tell which config format to write to $file: it has no \`version\`, and \`containerd --version\` is not available; pass --containerd-version X.Y.Z"
    fmt=$(format_of_major "$major")
    version_line=1
  fi

  local table
  table="[$(runtimes_key "$fmt").$runtime]"
  if [[ -n $ours ]]; then
    [[ $ours == "$runtime_type" ]] ||
      die "$file already defines $table with runtime_type \`$ours\`, not \`$runtime_type\`: fix or remove that table, or pick another --runtime-name"
    say "unchanged: $file (has $table)"
    return 0
  fi

  # The text to append: separated from the file's end by one blank line.
  local orig="" sep text added=("$runtime")
  ((exists)) && read_file "$file" orig
  if [[ -z $orig ]]; then sep=""
  elif [[ $orig == *$'\n' ]]; then sep=$'\n'
  else sep=$'\n\n'; fi
  if ((runtimes)); then
    text=$(block "$fmt" "$version_line" 0)
  else
    text=$(block "$fmt" "$version_line" 1)
    mapfile -t -O 1 added < <(sed -n 's/^\[.*\.containerd\.runtimes\.\([^].]*\)\]$/\1/p' <<<"$text" | grep -vx "$runtime")
  fi
  local new=$orig$sep$text$'\n'

  local dir tmp
  dir=$(dirname "$file")
  if ((dry_run)); then
    changed "would add $table to $file (config version $fmt):"
    printf '%s\n' "$text" | sed 's/^/    /'
    return 0
  fi
  ensure_dir "$dir"
  tmp=$(mktemp "$dir/.$(basename "$file").reaper.XXXXXX")
  printf '%s' "$new" >"$tmp"
  if ! (verify_config "$( ((exists)) && echo "$file" || echo /dev/null)" "$tmp" "$fmt" "${added[@]}"); then
    rm -f "$tmp"
    exit 1
  fi
  local backup=- how=appended sha=-
  if ((exists)); then
    backup=$file.reaper-backup.$(date -u +%Y%m%dT%H%M%SZ)
    [[ -e $backup ]] && backup=$(mktemp "$backup.XXXX")
    cp -p "$file" "$backup" || { rm -f "$tmp"; die "cannot back up $file to $backup"; }
    chmod --reference="$file" "$tmp" && chown --reference="$file" "$tmp"
  else
    how=created
    chmod 0644 "$tmp"
  fi
  mv -f "$tmp" "$file" || { rm -f "$tmp"; die "cannot replace $file"; }
  [[ $how == created ]] && sha=$(sha256 "$file")
  manifest_add containerd "$file" "$runtime" "$how" "${#sep}" "$sha" "$backup"
  ctrd_changed=1
  changed "added $table to $file (config version $fmt${backup:+; backup: $backup})"
  ((${#added[@]} > 1)) && say "  with containerd's default runtimes (${added[*]:1}), which the file did not list"
  return 0
}

# remove_block FILE SEP: strips the marker block (and SEP newlines before
# it) from FILE. 0: removed, 1: no block found.
remove_block() {
  local file=$1 sep=$2 content begin end before after
  read_file "$file" content
  begin=$(begin_marker)$'\n'
  end=$(end_marker)$'\n'
  [[ $content == "$begin"* || $content == *$'\n'"$begin"* ]] || return 1
  before=${content%%"$begin"*}
  after=${content#*"$begin"}
  [[ $after == *"$end"* ]] || die "$file: the reaper block has a BEGIN marker but no \`$(end_marker)\` line; remove it by hand"
  after=${after#*"$end"}
  local i
  for ((i = 0; i < sep; i++)); do
    [[ $before == *$'\n' ]] || break
    before=${before%$'\n'}
  done
  if ((dry_run)); then return 0; fi
  printf '%s' "$before$after" | write_atomic "$file" "$file"
}

# ---------------------------------------------------------------------------
# containerd restart
# ---------------------------------------------------------------------------
ctrd_changed=0
maybe_restart_containerd() {
  if ((!restart)); then
    ((ctrd_changed)) && say "containerd's config changed: restart containerd to load it (systemctl restart containerd), or run again with --restart-containerd"
    return 0
  fi
  command -v systemctl >/dev/null || die "--restart-containerd: systemctl not found; restart containerd by hand"
  if ((!ctrd_changed)); then
    # Nothing changed now; restart only if containerd started before the
    # config last changed (an earlier run without --restart-containerd).
    local since mtime file=$ctrd_config
    [[ -L $file ]] && file=$(readlink -f "$file")
    since=$(systemctl show containerd.service -p ActiveEnterTimestamp --value --timestamp=unix 2>/dev/null || true)
    since=${since#@}
    if [[ ! $since =~ ^[0-9]+$ ]]; then
      say "containerd.service is not active: not restarting (it reads its config when it starts)"
      return 0
    fi
    mtime=$(stat -c %Y "$file" 2>/dev/null || echo 0)
    if ((mtime < since)); then
      say "unchanged: containerd has been running since after its config last changed; not restarting"
      return 0
    fi
  fi
  if ((dry_run)); then changed "would restart containerd (systemctl restart containerd.service)"; return 0; fi
  systemctl restart containerd.service || die "systemctl restart containerd.service failed; see: journalctl -u containerd"
  changed "restarted containerd.service"
}

# ---------------------------------------------------------------------------
# The two modes
# ---------------------------------------------------------------------------
do_install() {
  manifest_load
  ((do_binary)) && install_binary
  ((do_config)) && install_config
  ((do_containerd)) && install_containerd
  ((do_containerd)) && maybe_restart_containerd
  if ((${#manifest[@]})); then
    [[ -d $state_dir ]] || ensure_dir "$state_dir"
    manifest_save
  fi
  if ((changes)); then
    say "done: $changes change(s)$( ((dry_run)) && echo ' would be made (dry run)')"
  else
    say "done: nothing changed"
  fi
}

do_uninstall() {
  local f
  f=$(manifest_file)
  if [[ ! -f $f ]]; then
    say "no install manifest at $f: nothing recorded to remove (nothing changed)"
    return 0
  fi
  manifest_load
  # Newest first. The state dir and its created parents hold the manifest:
  # they go last, after it.
  local i entry type path rest deferred=()
  for ((i = ${#manifest[@]} - 1; i >= 0; i--)); do
    entry=${manifest[i]}
    IFS=$'\t' read -r type path rest <<<"$entry"
    case $type in
      containerd) uninstall_containerd "$path" "$rest" ;;
      binary | link) remove_file "$path" ;;
      config)
        if [[ -e $path && $(sha256 "$path") != "$rest" ]]; then
          say "kept $path: edited since install (remove it by hand if unwanted)"
        else
          remove_file "$path"
        fi
        ;;
      dir)
        if [[ $path == "$state_dir" || $state_dir == "$path"/* ]]; then
          deferred+=("$path")
        else
          remove_dir "$path"
        fi
        ;;
      *) die "$f: unknown entry type \`$type\`" ;;
    esac
  done
  maybe_restart_containerd
  ((dry_run)) || rm -f "$f" || die "cannot remove $f"
  for path in "${deferred[@]}"; do remove_dir "$path"; done
  if ((changes)); then
    say "done: $changes change(s)$( ((dry_run)) && echo ' would be made (dry run)')"
  else
    say "done: nothing changed"
  fi
}

remove_file() {
  local path=$1
  if [[ ! -e $path && ! -L $path ]]; then
    say "already gone: $path"
  elif ((dry_run)); then
    changed "would remove $path"
  else
    rm -f "$path" || die "cannot remove $path"
    changed "removed $path"
  fi
}

remove_dir() {
  local d=$1
  if [[ ! -d $d ]]; then
    say "already gone: $d"
  elif [[ -n $(ls -A "$d") ]]; then
    if ((dry_run)); then changed "would remove directory $d (once emptied)"; else say "kept $d: not empty"; fi
  elif ((dry_run)); then
    changed "would remove directory $d"
  else
    rmdir "$d" || die "cannot remove directory $d"
    changed "removed directory $d"
  fi
}

uninstall_containerd() {
  local file=$1 name how sep sha backup
  IFS=$'\t' read -r name how sep sha backup <<<"$2"
  local saved=$runtime
  runtime=$name
  if [[ ! -f $file ]]; then
    say "already gone: $file"
  elif [[ $how == created && $(sha256 "$file") == "$sha" ]]; then
    if ((dry_run)); then changed "would remove $file (install created it)"
    else rm -f "$file" || die "cannot remove $file"; changed "removed $file (install created it)"; fi
    ctrd_changed=1
  elif remove_block "$file" "$sep"; then
    changed "$( ((dry_run)) && echo "would remove" || echo removed) runtime $name from $file"
    ctrd_changed=1
    if [[ $backup != - && -f $backup ]] && ((!dry_run)) && cmp -s "$file" "$backup"; then
      say "  $file is identical to its backup $backup again (backup kept)"
    fi
  else
    say "no reaper block for runtime $name in $file (removed by hand?): left as it is"
  fi
  runtime=$saved
}

parse_args "$@"
[[ $mode == uninstall ]] && prog=uninstall.sh
[[ $(id -u) == 0 ]] || warn "not running as root: writing system paths will probably fail"
if [[ $mode == install ]]; then do_install; else do_uninstall; fi
