# shellcheck shell=bash
# Helpers shared by up.sh and down.sh (sourced, not run).

# True when the pid in FILE is alive and its executable's name is NAME.
pid_alive() {
  local file=$1 name=$2 pid
  [[ -s $file ]] || return 1
  pid=$(<"$file")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/comm ]] || return 1
  [[ $(</proc/"$pid"/comm) == "$name" ]]
}

# Stop the process recorded in FILE if it is NAME (TERM, then KILL after a few seconds).
stop_pidfile() {
  local file=$1 name=$2 pid i
  if pid_alive "$file" "$name"; then
    pid=$(<"$file")
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      [[ -d /proc/$pid ]] || break
      sleep 0.1
    done
    if [[ -d /proc/$pid ]]; then kill -9 "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$file"
}
