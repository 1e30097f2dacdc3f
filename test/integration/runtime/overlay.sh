#!/usr/bin/env bash
# Host protection through the CLI: writes to /etc, /usr and /tmp stay in the
# group's overlay; a second container of the same namespace sees them,
# another namespace does not; /etc/shadow is masked, /etc/passwd and /proc
# readable; a bind volume marked ro rejects writes; a broken node config
# refuses to run anything, naming the line.
source "$(dirname "$0")/../lib.sh"
tag=reaper-it-$$
make_bundle "$WORK/w" /bin/sh -c "echo $tag >/etc/$tag && echo $tag >/usr/$tag && echo $tag >/tmp/$tag && echo written"
expect_eq "$("$RT" run --bundle "$WORK/w" w1)" written "writer"
for f in /etc/$tag /usr/$tag /tmp/$tag; do
  [ ! -e "$f" ] || { rm -f "$f"; fail "write to $f reached the host"; }
done
make_bundle "$WORK/r" /bin/sh -c "cat /etc/$tag /tmp/$tag; head -c 5 /etc/passwd; echo; test -r /proc/self/status && echo proc-ok; cut -d: -f2 /etc/shadow | sort -u"
out=$("$RT" run --bundle "$WORK/r" r1)
expect_eq "$(echo "$out" | sed -n 1p)" "$tag" "same group sees /etc write"
expect_eq "$(echo "$out" | sed -n 2p)" "$tag" "same group sees /tmp write"
expect_eq "$(echo "$out" | sed -n 3p)" "root:" "/etc/passwd readable"
echo "$out" | grep -qx proc-ok || fail "/proc not readable: $out"
expect_eq "$(echo "$out" | sed -n '5,$p' | tr '\n' ' ')" "! " "shadow password fields all masked"

NS=$NS-other make_bundle "$WORK/o" /bin/sh -c "cat /etc/$tag 2>/dev/null || echo absent"
expect_eq "$("$RT" run --bundle "$WORK/o" o1)" absent "another namespace's view"

mkdir -p "$WORK/vol"; echo data >"$WORK/vol/f"
EXTRA_CONFIG=', "mounts": [{"destination": "/mnt/'"$tag"'", "type": "bind", "source": "'"$WORK/vol"'", "options": ["rbind", "ro"]}]' \
  make_bundle "$WORK/v" /bin/sh -c "cat /mnt/$tag/f; (echo x >/mnt/$tag/g) 2>/dev/null && echo wrote || echo read-only"
out=$("$RT" run --bundle "$WORK/v" v1 | tr '\n' ' ')
expect_eq "$out" "data read-only " "ro volume"
[ ! -e "$WORK/vol/g" ] || fail "write through a ro volume"

printf 'REAPER_OVERLAY_ISOLATION=namespace\nREAPER_NO_SUCH_KEY=1\n' >"$REAPER_CONFIG"
"$RT" run --bundle "$WORK/r" bad 2>"$WORK/err" && fail "ran with a broken config"
grep -q "reaper.conf:2" "$WORK/err" || fail "config error without line: $(cat "$WORK/err")"
: >"$REAPER_CONFIG"
pass
