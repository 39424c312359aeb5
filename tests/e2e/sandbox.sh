# shellcheck shell=bash
#
# The end-to-end sandbox: a real sshd, agentgated and the two modules,
# running as root inside private mount, network and pid namespaces.
#
# Outside, sb_run makes a scratch directory, snapshots what of the host
# the sandbox could touch, runs the scenario in the namespaces, and
# checks afterwards that nothing is left running, mounted or changed.
# Inside, sb_setup builds the host the scenario needs from overlays and
# bind mounts: the host's own /etc, /dev and library directory are
# never written.  Because the scenario is pid 1 of its namespace, the
# kernel ends every process it started when it exits, whatever happens.
#
# Needs: abs_top_builddir (the build tree), ag_sysconfdir (the build's
# sysconfdir, where the modules look for agentgate/agentgate.conf).

SB_PORT=2222
SB_ISS=https://approvals.demo.invalid
SB_AUD=e2e-host

say() { printf '%s  %s\n' "$(date +%T)" "$*"; }
fail() { say "FAIL: $*"; exit 1; }

# ---- outside -----------------------------------------------------

sb_need_tools() {
	local t
	for t in unshare sshd ssh scp sftp ssh-keygen openssl ip flock \
		useradd chpasswd pgrep; do
		command -v "$t" >/dev/null 2>&1 ||
		[ -x "/usr/sbin/$t" ] || {
			echo "SKIP: $t is not installed"
			exit 77
		}
	done
}

sb_host_state() {
	# What the sandbox must leave exactly as it found it.
	sha256sum /etc/passwd /etc/group /etc/shadow /etc/nsswitch.conf
	find /etc/pam.d /etc/ssh -type f -exec sha256sum {} + | sort
	find /etc/agentgate -type f -exec sha256sum {} + 2>/dev/null | sort
	awk '{ print $5 }' /proc/self/mountinfo | sort
}

sb_cgroup_mount() {
	awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo
}

# Remove a cgroup subtree, deepest first; every process in it is gone.
sb_cgroup_rmtree() {
	[ -d "$1" ] || return 0
	find "$1" -depth -type d -exec rmdir {} + 2>/dev/null || true
	[ ! -d "$1" ]
}

# sb_run SCRIPT ARGS...: run SCRIPT's inside part in the sandbox.
sb_run() {
	local script=$1 rc=0 before after
	shift

	[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
	sb_need_tools
	before=$(sb_host_state)

	SB_DIR=$(mktemp -d /tmp/agentgate-e2e.XXXXXX)
	chmod 0755 "$SB_DIR"

	# A cgroup subtree of our own, made the root of a cgroup namespace:
	# the sandbox's agentgated sees and touches nothing else.
	SB_CGROUP=
	cgmnt=$(sb_cgroup_mount)
	if [ -n "$cgmnt" ]; then
		SB_CGROUP=$cgmnt/$(basename "$SB_DIR")
		mkdir "$SB_CGROUP"
	fi
	export SB_DIR SB_CGROUP SB_INSIDE=1
	# Keys and tokens live in SB_DIR: gone even if we are interrupted.
	trap 'rm -rf "$SB_DIR"; [ -z "$SB_CGROUP" ] ||
		sb_cgroup_rmtree "$SB_CGROUP"' EXIT
	trap 'exit 1' INT TERM
	sh -c '[ -z "$SB_CGROUP" ] || echo $$ >"$SB_CGROUP/cgroup.procs"
		exec unshare --mount --net --pid --cgroup --fork \
		--mount-proc --propagation private bash "$@"' \
		sb "$script" "$@" || rc=$?

	# Tokens and keys lived in there: none may outlive the run.
	rm -rf "$SB_DIR"
	if [ -n "$SB_CGROUP" ] && ! sb_cgroup_rmtree "$SB_CGROUP"; then
		say "FAIL: cgroups of the sandbox survived in $SB_CGROUP"
		rc=1
	fi
	after=$(sb_host_state)
	if [ "$before" != "$after" ]; then
		diff <(echo "$before") <(echo "$after") >&2 || true
		say "FAIL: the sandbox changed the host (diff above)"
		return 1
	fi
	pgrep -f "$SB_DIR" >/dev/null &&
		{ say "FAIL: processes of the sandbox survived"; return 1; }
	[ "$rc" = 0 ] && say "host unchanged: no process, mount or file left"
	return "$rc"
}

# ---- inside --------------------------------------------------------

sb_libdir() {
	dirname "$(readlink -f /lib/x86_64-linux-gnu/libc.so.6 2>/dev/null ||
		ldd /bin/sh | awk '/libc.so/ { print $3 }')"
}

# A private /dev: the host's device nodes bound in, and /dev/log a
# socket of our own so the PAM module's syslog lines can be read.
sb_dev() {
	local n
	mkdir -p "$SB_DIR/hostdev"
	mount --rbind /dev "$SB_DIR/hostdev"
	mount -t tmpfs -o mode=0755,nosuid tmpfs /dev
	for n in null zero full random urandom tty; do
		touch "/dev/$n"
		mount --bind "$SB_DIR/hostdev/$n" "/dev/$n"
	done
	mkdir /dev/pts /dev/shm
	mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts \
		/dev/pts
	ln -s pts/ptmx /dev/ptmx
	mount -t tmpfs -o mode=1777 tmpfs /dev/shm
	umount -l "$SB_DIR/hostdev"
	"$SB_DIR/bin/e2e_logsink" /dev/log \
		>>"$SB_DIR/syslog.log" 2>&1 &
	for n in $(seq 50); do [ -S /dev/log ] && break; sleep 0.1; done
}

# /etc as an overlay so new files (agentgate.conf, a human user) land
# in the scratch directory; pam.d and nsswitch.conf are our own copies.
sb_etc() {
	mkdir -p "$SB_DIR/etc-up" "$SB_DIR/etc-work"
	mount -t overlay overlay -o "lowerdir=/etc,upperdir=$SB_DIR/etc-up,workdir=$SB_DIR/etc-work" /etc

	cp -a /etc/pam.d "$SB_DIR/pam.d"
	sb_pam_sshd >"$SB_DIR/pam.d/sshd"
	mount --bind "$SB_DIR/pam.d" /etc/pam.d

	sed -E 's/^(passwd|group):.*/& agentgate/' /etc/nsswitch.conf \
		>"$SB_DIR/nsswitch.conf"
	mount --bind "$SB_DIR/nsswitch.conf" /etc/nsswitch.conf

	# Where this build's modules look for their config: /etc (an
	# overlay now), or under the private /tmp (make distcheck's
	# prefix), or else on an overlay of its nearest existing parent.
	local conf=$ag_sysconfdir/agentgate anc
	case $conf in
	/etc/*|/tmp/*|/var/tmp/*) ;;
	*)
		anc=$conf
		while [ ! -d "$anc" ]; do anc=$(dirname "$anc"); done
		[ "$anc" != / ] || fail "cannot place $conf in the sandbox"
		mkdir -p "$SB_DIR/conf-up" "$SB_DIR/conf-work"
		mount -t overlay overlay -o "lowerdir=$anc,upperdir=$SB_DIR/conf-up,workdir=$SB_DIR/conf-work" "$anc"
		;;
	esac
	mkdir -p "$conf"
	SB_CONF=$conf/agentgate.conf
}

# The host's own sshd stack with agentgate added as the README says:
# first in auth and in account after pam_nologin (agents stop there,
# humans fall through to the usual modules), and in session after
# pam_loginuid, so the audit session id exists.  module_unknown=ignore
# keeps humans able to log in should the module file go missing.
sb_pam_sshd() {
	local ctl='[success=done ignore=ignore module_unknown=ignore default=die]'
	awk -v ctl="$ctl" '
	/^@include common-auth/ && !a++ {
		print "auth " ctl " pam_agentgate.so"
	}
	{ print }
	/^account[ \t]+required[ \t]+pam_nologin.so/ {
		print "account " ctl " pam_agentgate.so"
	}
	/^session[ \t]+required[ \t]+pam_loginuid.so/ {
		print "session [success=ok ignore=ignore module_unknown=ignore default=bad] pam_agentgate.so"
	}' /etc/pam.d/sshd
}

# The modules where PAM and glibc look for them, via a read-only
# overlay on the library directory.
sb_modules() {
	local lib
	lib=$(sb_libdir)
	mount -t overlay overlay -o "lowerdir=$SB_DIR/lib:$lib" "$lib"
}

sb_keys() {
	mkdir -p "$(dirname "$SB_CONF")/keys"
	openssl genpkey -algorithm ed25519 -out "$SB_DIR/issuer.key" \
		2>/dev/null
	openssl pkey -in "$SB_DIR/issuer.key" -pubout \
		-out "$(dirname "$SB_CONF")/keys/demo.pem"
	chmod 0644 "$(dirname "$SB_CONF")/keys/demo.pem"
}

sb_write_config() {
	cat >"$SB_CONF" <<EOF
# agentgate.conf for the end-to-end sandbox
[agentgate]
audience = $SB_AUD
state_dir = $SB_DIR/state
kill_grace_ms = 300

[issuer demo]
iss = $SB_ISS
keys = $(dirname "$SB_CONF")/keys/demo.pem
algorithms = EdDSA ES256
max_lifetime = 600
prefix = agent-
uid_range = 200000-299999
home_base = $SB_DIR/home
shell = /bin/bash
groups = e2e-deploy
EOF
	chmod 0644 "$SB_CONF"
}

sb_sshd() {
	mkdir -p /run/sshd
	ssh-keygen -q -t ed25519 -N '' -f "$SB_DIR/hostkey"
	cat >"$SB_DIR/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $SB_PORT
HostKey $SB_DIR/hostkey
PidFile $SB_DIR/sshd.pid
UsePAM yes
PasswordAuthentication yes
KbdInteractiveAuthentication yes
PubkeyAuthentication yes
PermitRootLogin no
AuthorizedKeysFile .ssh/authorized_keys
Subsystem sftp internal-sftp
LogLevel VERBOSE
# Defence in depth, as the README recommends: agents never log in
# with a key, whatever lands in an authorized_keys file.  agent-keys
# is left out so that a test can prove the PAM account check alone.
Match User agent-*,!agent-keys
	PubkeyAuthentication no
	AuthorizedKeysFile none
EOF
	/usr/sbin/sshd -D -e -f "$SB_DIR/sshd_config" \
		2>>"$SB_DIR/sshd.log" &
	local i
	for i in $(seq 100); do
		(exec 3<>/dev/tcp/127.0.0.1/$SB_PORT) 2>/dev/null && return 0
		sleep 0.1
	done
	cat "$SB_DIR/sshd.log" >&2
	fail "sshd did not start"
}

sb_daemon() {
	"$AGENTGATED" --foreground --config "$SB_CONF" \
		>>"$SB_DIR/agentgated.log" 2>&1 &
	SB_DAEMON_PID=$!
	local i
	for i in $(seq 100); do
		if [ -e /run/agentgate/agentgated.lock ] &&
		   ! flock -n -s /run/agentgate/agentgated.lock true; then
			return 0
		fi
		sleep 0.1
	done
	cat "$SB_DIR/agentgated.log" >&2
	fail "agentgated did not start"
}

sb_client() {
	cat >"$SB_DIR/askpass" <<'EOF'
#!/bin/sh
# The token is the password; ssh asks us for it.
exec cat "$AG_SECRET_FILE"
EOF
	chmod 0700 "$SB_DIR/askpass"
	cat >"$SB_DIR/ssh_config" <<EOF
Host *
	Port $SB_PORT
	StrictHostKeyChecking no
	UserKnownHostsFile /dev/null
	GlobalKnownHostsFile /dev/null
	PreferredAuthentications password
	PubkeyAuthentication no
	NumberOfPasswordPrompts 1
	ConnectTimeout 5
	LogLevel ERROR
EOF
}

# /tmp, /var/tmp and the cron spool of our own, so that nothing an
# agent leaves there reaches the host; the scratch directory, which
# lives in the host's /tmp, is bound back in place.
sb_private_dirs() {
	local d
	sb_stage
	mkdir /run/sb-scratch
	mount --bind "$SB_DIR" /run/sb-scratch
	for d in /tmp /var/tmp /var/spool/cron; do
		[ -d "$d" ] || continue
		mount -t tmpfs -o mode=1777 tmpfs "$d"
	done
	if [ -d /var/spool/cron ]; then
		mkdir -m 1730 /var/spool/cron/crontabs
		chgrp crontab /var/spool/cron/crontabs 2>/dev/null || true
	fi
	mkdir -p "$SB_DIR"
	mount --bind /run/sb-scratch "$SB_DIR"
}

# What the sandbox runs from the build tree, copied in before /tmp
# (where a build tree may live) is covered.
sb_stage() {
	local b=$abs_top_builddir
	mkdir -p "$SB_DIR/lib/security" "$SB_DIR/bin"
	cp "$b/nss_module/.libs/libnss_agentgate.so.2" "$SB_DIR/lib/"
	cp "$b/pam_module/.libs/pam_agentgate.so" "$SB_DIR/lib/security/"
	cp "$b/helper/agentgated" "$b/helper/agentgatectl" \
		"$b/tests/e2e_logsink" "$SB_DIR/bin/"
	AGENTGATED=$SB_DIR/bin/agentgated
	AGENTGATECTL=$SB_DIR/bin/agentgatectl
}

# The cgroup2 hierarchy as the cgroup namespace sees it: rooted at the
# sandbox's own subtree.
sb_cgroups() {
	local mnt
	mnt=$(sb_cgroup_mount)
	[ -n "$mnt" ] || return 0
	umount -l "$mnt"
	mount -t cgroup2 cgroup2 "$mnt"
}

sb_setup() {
	ip link set lo up
	mount -t tmpfs -o mode=0755 tmpfs /run
	sb_private_dirs
	sb_cgroups
	sb_dev
	sb_etc
	sb_modules
	sb_keys
	sb_write_config
	sb_client
	sb_sshd
	sb_daemon
}

# ---- actions ---------------------------------------------------------

# mint NAME OUTFILE [agentgatectl mint options...]
mint() {
	local sub=$1 out=$2
	shift 2
	(umask 077; "$AGENTGATECTL" mint --key "$SB_DIR/issuer.key" \
		--iss "$SB_ISS" --aud "$SB_AUD" --sub "$sub" "$@" >"$out")
}

# token_claim FILE CLAIM: one claim of a token we minted, for display.
token_claim() {
	local p
	p=$(cut -d. -f2 "$1" | tr '_-' '/+')
	while [ $(( ${#p} % 4 )) != 0 ]; do p=$p=; done
	printf '%s' "$p" | base64 -d |
		sed -E "s/.*\"$2\":\"?([^\",}]*).*/\1/"
}

# agent_ssh USER SECRETFILE [ssh options] -- COMMAND...
agent_ssh() {
	local user=$1 secret=$2
	shift 2
	local opts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
	[ "${1:-}" = -- ] && shift
	AG_SECRET_FILE=$secret SSH_ASKPASS=$SB_DIR/askpass \
	SSH_ASKPASS_REQUIRE=force setsid -w ssh -F "$SB_DIR/ssh_config" \
		"${opts[@]}" "$user@127.0.0.1" "$@" </dev/null
}

uid_of() { getent passwd "$1" | cut -d: -f3; }

# wait_for SECONDS CMD...: poll until CMD succeeds.
wait_for() {
	local limit=$1 i
	shift
	for i in $(seq $((limit * 10))); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

log_has() { grep -q -- "$1" "$SB_DIR/syslog.log"; }

# elapsed FROM TO: seconds between two epoch times, two decimals.
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# Stop sshd and agentgated; the cgroup subtree goes after the run.
sb_teardown() {
	local i
	[ -f "$SB_DIR/sshd.pid" ] && kill "$(cat "$SB_DIR/sshd.pid")" 2>/dev/null
	for i in $(seq 30); do
		[ -z "$(ls /run/agentgate/sessions 2>/dev/null)" ] && break
		sleep 0.1
	done
	kill "$SB_DAEMON_PID" 2>/dev/null || true
	wait "$SB_DAEMON_PID" 2>/dev/null || true
}
