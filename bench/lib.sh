# Shared by the bench scripts (sourced): a versitygw on a free loopback
# port with one root account, and the service's stop under time(1).
# The caller sets WORK and VGW (the versitygw binary).

# free_port prints a free TCP port on 127.0.0.1, below Linux's ephemeral
# range (32768 and up), so no outgoing connection holds it by chance.
free_port() {
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 12000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p" && return; fi
	done
	return 1
}

# start_server starts versitygw on a fresh $WORK/s3, or SERVER_STORE (each folder is a
# bucket), sets PORT and VGW_PID, and waits until it listens. It keeps
# connections alive, as Amazon S3, OSS and every cloud does (versitygw's
# default closes each after one request, so every client dials once per
# object); KEEP_ALIVE=false measures that.
start_server() {
	rm -rf "${SERVER_STORE:-$WORK/s3}" && mkdir -p "${SERVER_STORE:-$WORK/s3}"
	PORT=$(free_port)
	VGW_KEEP_ALIVE=${KEEP_ALIVE:-true} ROOT_ACCESS_KEY=benchkey ROOT_SECRET_KEY=benchsecret123 "$VGW" --port "127.0.0.1:$PORT" --quiet posix "${SERVER_STORE:-$WORK/s3}" >"$WORK/versitygw.log" 2>&1 &
	VGW_PID=$!
	for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return; sleep 0.1; done
	echo "versitygw did not start; see $WORK/versitygw.log" >&2
	return 1
}

# stop_server stops the versitygw start_server started.
stop_server() {
	[ -n "${VGW_PID:-}" ] || return 0
	kill "$VGW_PID" 2>/dev/null || true
	wait "$VGW_PID" 2>/dev/null || true
	VGW_PID=
}

# stop_service PID CONSOLE...: stops the service that /usr/bin/time (PID)
# runs, so time writes its report (a stop that cannot reach the workers
# of conf/workers fails but still stops the service).
stop_service() {
	local pid=$1
	shift
	"$@" stop >/dev/null 2>&1 || true
	for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then
		kill $(pgrep -P "$pid") 2>/dev/null || true
	fi
	wait "$pid" || true
}
