# shellcheck shell=bash
# pulumi-kaptain shell helpers.
#
# This file is inlined at the top of every phase script (create, update and delete),
# so that a script stored in Pulumi state keeps working after the program changes.
# Functions named kaptain_* run the phase; the others are the helpers that kaptain
# offers to hooks.sh: merge_config, embed_config, embed_subconfig, rclone_config and
# split_multi_yml.

# A deploy does what the program says: a KAPTAIN_* variable left in the shell that runs
# `pulumi up` (KAPTAIN_DRY_RUN=1: nothing uploaded; another KAPTAIN_KUBECONFIG: another
# cluster) must not change it. The Command's environment carries the ones that count, always
# (an empty KAPTAIN_KUBECONFIG when there is none); every other one is dropped before
# anything runs. The diff action sets its KAPTAIN_DRY_RUN after this.
# KAPTAIN_SHARED, KAPTAIN_RELEASE_* and KAPTAIN_LIVE_DIFF are the create script's record
# (kaptain_record): one the shell brought along can only make an update run more releases.
# "${!KAPTAIN_@}" names every variable that starts so, without the process $(compgen) costs.
for kaptain_variable in "${!KAPTAIN_@}"; do
  case $kaptain_variable in
    KAPTAIN_INPUT_* | KAPTAIN_KUBECONFIG | KAPTAIN_SCRIPT_CREATE | KAPTAIN_SCRIPT_DELETE) ;;
    KAPTAIN_SHARED | KAPTAIN_RELEASE_* | KAPTAIN_LIVE_DIFF) ;;
    *) unset "$kaptain_variable" ;;
  esac
done
unset kaptain_variable

# The command provider hands each run the previous run's output (addPreviousOutputInEnv):
# its stdout is the record kaptain_changed_releases and the namespace guard read. Neither
# it nor the previous stderr is for hooks or helmfile.
KAPTAIN_PREVIOUS_STDOUT=${PULUMI_COMMAND_STDOUT:-}
unset PULUMI_COMMAND_STDOUT PULUMI_COMMAND_STDERR

# kaptain's own lines go to file descriptor 3, the script's original stderr, so they
# stay visible whatever kaptain_output does to the hooks' and helmfile's output.
kaptain_log() {
  printf 'kaptain: %s: %s\n' "$KAPTAIN_ACTION" "$*" >&3
}

kaptain_error() {
  printf 'kaptain: %s: error: %s\n' "$KAPTAIN_ACTION" "$*" >&3
}

# kaptain_init ACTION NAMESPACE NAMESPACE_FOLDER
# Runs in the working directory (the Command's `dir`) and moves to the namespace folder
# (relative to it). Exports the variables that hooks and helmfile see, creates the
# private temporary folder and installs the trap that cleans up on success and on failure.
# A namespace folder that is gone is reported by kaptain_require_sources: a delete runs
# from the state, maybe after the folder was removed, and must still say what it leaves.
kaptain_init() {
  exec 3>&2
  # The Command's environment carries this script and its undo (see scriptLauncher):
  # hooks and helmfile have no use for them.
  unset KAPTAIN_SCRIPT_CREATE KAPTAIN_SCRIPT_DELETE
  KAPTAIN_ACTION=$1
  KAPTAIN_STEP="start"
  KAPTAIN_LOCK=""
  export KAPTAIN_NAMESPACE=$2
  KAPTAIN_WORKING_DIRECTORY=$(pwd -P)
  export KAPTAIN_WORKING_DIRECTORY
  KAPTAIN_NAMESPACE_FOLDER=$3
  if cd -- "$3" 2>/dev/null; then
    KAPTAIN_NAMESPACE_DIRECTORY=$(pwd -P)
  else
    KAPTAIN_NAMESPACE_DIRECTORY="$KAPTAIN_WORKING_DIRECTORY/${3#./}"
  fi
  export KAPTAIN_NAMESPACE_DIRECTORY
  KAPTAIN_EMBED_DIRECTORY="$KAPTAIN_NAMESPACE_DIRECTORY/provision-configs/.kaptain"
  KAPTAIN_TMP=$(mktemp -d "${XDG_RUNTIME_DIR:-${TMPDIR:-/tmp}}/kaptain.XXXXXXXX")
  KAPTAIN_FAILED_AT=""
  KAPTAIN_BODY=""
  KAPTAIN_BODY_ENDED=""
  KAPTAIN_IN_BODY=""
  # errtrace: the ERR trap also fires inside functions, hooks' and helpers' alike.
  set -E
  trap kaptain_failed_at ERR
  trap kaptain_cleanup EXIT
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# kaptain_output MODE: what of the hooks' and helmfile's output leaves this script, and
# so reaches Pulumi's log and, on failure, the command provider's error message:
#   all     everything;
#   stderr  helmfile's progress and errors, hooks' stderr (stdout, where helm prints
#           release notes, is dropped);
#   steps   only kaptain's own lines.
kaptain_output() {
  KAPTAIN_OUTPUT=$1
  case $1 in
    all) ;;
    stderr) exec 1>/dev/null ;;
    steps) exec 1>/dev/null 2>/dev/null ;;
    *) kaptain_error "unknown output mode '$1'"; exit 1 ;;
  esac
}

# kaptain_relay_start: everything that leaves the create script on stderr, kaptain's own
# lines (descriptor 3) included and in their order, passes through a relay that keeps it
# bounded. The command provider hands the previous run's stderr to the next run in an
# environment variable, which Linux caps at 128 KiB: a larger one would fail the next update
# before any script runs ("argument list too long"). The relay (kaptain_relay) reads a FIFO
# that descriptors 2 and 3 now write to, and ignores HUP, INT and TERM: it ends when the last
# process writing to it ends. So it loses nothing when the script is stopped, and when the
# script is killed (SIGKILL) while helmfile still runs, it relays helmfile to its end.
KAPTAIN_RELAY=""
kaptain_relay_start() {
  local fifo="$KAPTAIN_TMP/stderr"
  if ! command -v awk >/dev/null 2>&1; then
    kaptain_error "awk is required (it keeps the phase's output bounded) but 'awk' was not found on PATH"
    KAPTAIN_MISSING=1
    return 0
  fi
  mkfifo -- "$fifo"
  (
    trap '' HUP INT TERM
    kaptain_relay
  ) <"$fifo" >&2 &
  KAPTAIN_RELAY=$!
  exec 2>"$fifo" 3>&2
}

# kaptain_relay: standard input to standard output, line by line, at most about 100 KiB in
# all: the first 64 KiB as they come; then a line saying that the rest is held back, and,
# at the end, how much was left out and the last 32 KiB of lines, where a failure's cause
# is. A line longer than 4 KiB is cut, saying how much of it was.
kaptain_relay() {
  # mawk (Debian's awk) reads a pipe in blocks unless told otherwise: the lines would come
  # out late and in bursts.
  if command -v mawk >/dev/null 2>&1; then
    set -- mawk -W interactive
  else
    set -- awk
  fi
  # Lengths in bytes.
  export LC_ALL=C
  # shellcheck disable=SC2016 # the program is awk's: its $0 is awk's
  exec "$@" -v live=65536 -v tail=32768 -v width=4096 -v prefix="kaptain: $KAPTAIN_ACTION: " '
    BEGIN { first = 1 }
    {
      line = $0
      if (length(line) > width) {
        line = substr(line, 1, width) " [" (length($0) - width) " more bytes of this line left out]"
      }
      size = length(line) + 1
    }
    !held && shown + size <= live {
      print line
      fflush()
      shown += size
      next
    }
    !held {
      held = 1
      print prefix "output past " live / 1024 " KiB is held back: its last lines follow when the phase ends"
      fflush()
    }
    {
      kept[++last] = line
      keptsize += size
      while (keptsize > tail) {
        keptsize -= length(kept[first]) + 1
        leftout += length(kept[first]) + 1
        leftlines++
        delete kept[first++]
      }
    }
    END {
      if (leftout > 0) {
        print prefix leftout " bytes (" leftlines " lines) of output left out here: a phase keeps its output" \
          " under 100 KiB, which its next run receives in an environment variable"
      }
      for (i = first; i <= last; i++) print kept[i]
    }'
}

# kaptain_relay_end: the script's last step: it closes its ends of the relay and waits until
# the relay has printed everything, so that nothing of it comes after the script's exit.
kaptain_relay_end() {
  [ -n "$KAPTAIN_RELAY" ] || return 0
  exec 1>/dev/null 2>/dev/null 3>/dev/null
  # A signal interrupts `wait`: wait again until the relay is gone.
  while kill -0 "$KAPTAIN_RELAY" 2>/dev/null; do
    wait "$KAPTAIN_RELAY" || true
  done
}

# kaptain_record_start: the create script's standard output carries its record
# (kaptain_record) and nothing else. Descriptor 45 keeps it; the hooks' and helmfile's
# stdout goes to stderr, where kaptain_output lets it through or drops it.
KAPTAIN_RECORDING=""
kaptain_record_start() {
  exec 45>&1 1>&2
  KAPTAIN_RECORDING=1
}

# kaptain_record: KAPTAIN_RECORD gets the record of what this run deploys from, which the
# create script prints on success and the command provider hands to its next run
# (kaptain_changed_releases reads it there): a first line `kaptain-manifest 1`, then
# NAME=value for KAPTAIN_SHARED (a digest of the phase's inputs that all its releases
# share), KAPTAIN_LIVE_DIFF (what liveDiff found) and each KAPTAIN_RELEASE_* (a digest of
# the files only the releases it names read, then their names), those that are set, in that
# order, the releases sorted by variable name (bash lists ${!prefix@} sorted).
kaptain_record() {
  local name
  KAPTAIN_RECORD="kaptain-manifest 1"$'\n'
  for name in KAPTAIN_SHARED KAPTAIN_LIVE_DIFF "${!KAPTAIN_RELEASE_@}"; do
    if [ -n "${!name+set}" ]; then
      KAPTAIN_RECORD+="$name=${!name}"$'\n'
    fi
  done
}

# kaptain_record_end: on success, the record goes to the script's stdout, unless it is too
# large to come back in a variable (a repository of well over 500 releases in one phase):
# then no record, and the next update runs the whole phase.
kaptain_record_end() {
  local LC_ALL=C
  [ -n "$KAPTAIN_RECORDING" ] || return 0
  kaptain_record
  if [ "${#KAPTAIN_RECORD}" -gt 98304 ]; then
    kaptain_log "the record of this run's inputs is ${#KAPTAIN_RECORD} bytes, over the 96 KiB its next run" \
      "can receive back: it is not kept, and the next update runs the whole phase"
    return 0
  fi
  printf '%s' "$KAPTAIN_RECORD" >&45 || true
}

# kaptain_changed_releases PREVIOUS_RECORD: whether an update may deploy only some of the
# phase's releases. PREVIOUS_RECORD is the record (kaptain_record) of the last successful
# run. Status 0 when only the inputs of some releases changed since then: KAPTAIN_CHANGED
# names them (space-separated). Status 1 when the whole phase must run: KAPTAIN_WHOLE_PHASE
# says why. When in doubt, the whole phase: a release that could render differently is
# never left out.
kaptain_changed_releases() {
  local previous=$1 line name was value names release number=0
  KAPTAIN_CHANGED=""
  KAPTAIN_WHOLE_PHASE=""
  if [ -z "${KAPTAIN_SHARED:-}" ]; then
    KAPTAIN_WHOLE_PHASE="no KAPTAIN_SHARED (the program sends no inputs per release)"
    return 1
  fi
  case $previous in
    "kaptain-manifest 1" | "kaptain-manifest 1"$'\n'*) ;;
    *)
      KAPTAIN_WHOLE_PHASE="no record of a previous run to compare with (a create, or a state from before pulumi-kaptain kept one)"
      return 1
      ;;
  esac
  # Each previous value goes into a variable kaptain_was_<NAME> (bash 3 has no associative
  # arrays). A release the record names must still have inputs of its own: one removed from
  # the helmfile, or now reading only shared files, has not.
  unset "${!kaptain_was_@}"
  while IFS= read -r line; do
    number=$((number + 1))
    [ -n "$line" ] || continue
    name=${line%%=*}
    case $name in
      "$line" | *[!A-Za-z0-9_]*) name="" ;;
      KAPTAIN_SHARED | KAPTAIN_LIVE_DIFF | KAPTAIN_RELEASE_?*) ;;
      *) name="" ;;
    esac
    if [ -z "$name" ]; then
      KAPTAIN_WHOLE_PHASE="line $number of the previous run's record is not one this script reads"
      return 1
    fi
    value=${line#*=}
    printf -v "kaptain_was_$name" '%s' "$value"
    case $name in
      KAPTAIN_RELEASE_*)
        if [ -z "${!name+set}" ]; then
          KAPTAIN_WHOLE_PHASE="$name (${value#* }) is gone: those releases have no inputs of their own any more"
          return 1
        fi
        ;;
    esac
  done <<<"${previous#"kaptain-manifest 1"}"
  was=kaptain_was_KAPTAIN_SHARED
  if [ "${!was-}" != "$KAPTAIN_SHARED" ]; then
    KAPTAIN_WHOLE_PHASE="an input that all its releases share changed (KAPTAIN_SHARED)"
    return 1
  fi
  # liveDiff: drift, found in the cluster, is put back by the whole phase.
  was=kaptain_was_KAPTAIN_LIVE_DIFF
  if [ -n "${KAPTAIN_LIVE_DIFF+set}" ]; then
    if [ "$KAPTAIN_LIVE_DIFF" != none ] && [ "${!was-none}" != "$KAPTAIN_LIVE_DIFF" ]; then
      KAPTAIN_WHOLE_PHASE="the live diff found changes in the cluster (KAPTAIN_LIVE_DIFF: $KAPTAIN_LIVE_DIFF)"
      return 1
    fi
  elif [ -n "${!was+set}" ]; then
    KAPTAIN_WHOLE_PHASE="KAPTAIN_LIVE_DIFF is gone (liveDiff turned off?)"
    return 1
  fi
  for name in "${!KAPTAIN_RELEASE_@}"; do
    was=kaptain_was_$name
    value=${!name}
    if [ -n "${!was+set}" ] && [ "${!was}" = "$value" ]; then
      continue
    fi
    # New, or changed: "<digest> <release> [<release>...]". Each name goes into a
    # --selector, where helmfile would read a `,` or `=` as part of the selector.
    names=${value#* }
    case $value in
      *" "*) ;;
      *) names="" ;;
    esac
    case $names in
      "" | *[!A-Za-z0-9._\ -]*)
        KAPTAIN_WHOLE_PHASE="$name names a release that is not a plain label value (letters, digits, '.', '_', '-'): '$names'"
        return 1
        ;;
    esac
    for release in $names; do
      case " $KAPTAIN_CHANGED " in
        *" $release "*) ;;
        *) KAPTAIN_CHANGED="${KAPTAIN_CHANGED:+$KAPTAIN_CHANGED }$release" ;;
      esac
    done
  done
  if [ -z "$KAPTAIN_CHANGED" ]; then
    KAPTAIN_WHOLE_PHASE="none of the inputs in its record changed since the last run (another input did)"
    return 1
  fi
}

# kaptain_select_releases SELECTOR...: the --selector arguments helmfile deploys with, in the
# array KAPTAIN_SELECTORS: the phase's SELECTORs, the whole phase; or, on an update where only
# some releases' own inputs changed, each SELECTOR narrowed to each of those releases
# (`--selector SELECTOR,name=fleet-3`). The hooks run in both cases.
kaptain_select_releases() {
  local selector release
  KAPTAIN_STEP="choose the releases"
  kaptain_body_note
  KAPTAIN_SELECTORS=()
  if kaptain_changed_releases "$KAPTAIN_PREVIOUS_STDOUT"; then
    for release in $KAPTAIN_CHANGED; do
      if [ "$#" -eq 0 ]; then
        KAPTAIN_SELECTORS+=(--selector "name=$release")
      fi
      for selector in "$@"; do
        KAPTAIN_SELECTORS+=(--selector "$selector,name=$release")
      done
    done
    kaptain_log "releases whose inputs changed: ${KAPTAIN_CHANGED// /, } (helmfile runs for them only)"
    return 0
  fi
  for selector in "$@"; do
    KAPTAIN_SELECTORS+=(--selector "$selector")
  done
  # Without KAPTAIN_SHARED (an older program, or no inputs per release), as before: nothing said.
  if [ -n "${KAPTAIN_SHARED:-}" ]; then
    kaptain_log "helmfile runs for the whole phase: $KAPTAIN_WHOLE_PHASE"
  fi
}

# Remembers where a command failed. In a sourced hooks file that is the file, the line
# and the line's text (for a helper that failed, the call, not the helper's insides);
# elsewhere, the phase script's line and command.
kaptain_failed_at() {
  local file=${BASH_SOURCE[1]:-} line=${BASH_LINENO[0]} text
  if [ -f "$file" ]; then
    text=$(sed -n "${line}{s/^[[:space:]]*//;p;}" -- "$file" 2>/dev/null) || text=$BASH_COMMAND
    KAPTAIN_FAILED_AT="$file:$line: ${text:-$BASH_COMMAND}"
  else
    KAPTAIN_FAILED_AT="the phase script, line $line: $BASH_COMMAND"
  fi
  kaptain_body_note
}

# Runs on every exit of the script (the parent, not the steps' child: see kaptain_body).
# A phase succeeds only when its steps reached kaptain_finish: an `exit 0` or an `exec`
# in a sourced hook ends them too, and must not pass for a deploy.
kaptain_cleanup() {
  local status=$?
  trap - EXIT
  if [ -n "$KAPTAIN_BODY" ]; then
    kaptain_end_body
  fi
  if [ "$status" -eq 0 ] && [ "$KAPTAIN_STEP" != "done" ]; then
    kaptain_error "the phase's steps ended during step '$KAPTAIN_STEP' before the phase finished" \
      "(an \`exit\` or \`exec\` in a hook?): counted as a failure"
    status=1
  elif [ "$status" -ne 0 ]; then
    kaptain_error "failed during step '$KAPTAIN_STEP' (exit status $status)"
    if [ -n "$KAPTAIN_FAILED_AT" ]; then
      kaptain_error "the failing command: $KAPTAIN_FAILED_AT"
    fi
    case "$KAPTAIN_FAILED_AT" in
      "the phase script, line "*": source "*)
        kaptain_error "the hooks file ended with a non-zero status: its last command failed, or was a" \
          "\`[ ... ] && cmd\` list whose test was false; end the file with \`true\` or use \`if\`"
        ;;
    esac
    if [ "${KAPTAIN_OUTPUT:-all}" != all ]; then
      kaptain_error "output of hooks and helmfile is limited by logging '$KAPTAIN_OUTPUT'; set logging to 'all' to see it"
    fi
  fi
  # Only the lock holder may touch the embed folder: another run may be using it. The
  # holder's name goes too; the lock itself goes with the last process holding it. (One
  # rm for all: every process costs the phase time.)
  if [ -n "$KAPTAIN_LOCK" ]; then
    rm -rf -- "$KAPTAIN_EMBED_DIRECTORY" "$KAPTAIN_LOCK" "$KAPTAIN_TMP"
    # A namespace without a provision-configs chart: embedding created the folder, which
    # now holds nothing (git keeps no empty folder, so none was the user's).
    rmdir -- "${KAPTAIN_EMBED_DIRECTORY%/*}" 2>/dev/null || true
  else
    rm -rf -- "$KAPTAIN_TMP"
  fi
  if [ "$status" -eq 0 ]; then
    kaptain_log "done"
    kaptain_record_end
  fi
  kaptain_relay_end
  exit "$status"
}

kaptain_step() {
  KAPTAIN_STEP=$1
  KAPTAIN_FAILED_AT=""
  kaptain_body_note
  kaptain_log "$1"
}

# The last of the steps: the parent counts the phase as done only when the steps got here.
kaptain_finish() {
  KAPTAIN_STEP="done"
  kaptain_body_note
}

# The steps (hooks, helmfile) run in a child of the script, in a process group of its own;
# the script (the parent) holds the lock, waits for them, and cleans up. Hooks are still
# sourced into the shell that runs helmfile (kaptain's contract), but what they do to that
# shell ends there: an `exec` replaces the child, not the parent, which then finds that
# the steps did not reach kaptain_finish; a hook's own EXIT trap cannot replace the
# cleanup; and the jobs hooks leave running (`kubectl port-forward &`), which would keep
# the phase's output open (the command provider waits for it to close), are in the child's
# process group, which the parent stops. Usage, in the script:
#   kaptain_body_start; ( kaptain_body; <steps>; kaptain_finish ) </dev/null & kaptain_body_wait "$!"
# Job control (set -m) is on only while `&` starts the child: that gives it its own group.
kaptain_body_start() {
  set -m
}

# First thing in the child: no job control (the hooks' jobs stay in its group), the ERR trap,
# and the step and failing command written where the parent reads them.
kaptain_body() {
  set +m
  KAPTAIN_IN_BODY=1
  trap kaptain_failed_at ERR
  trap - EXIT
  # The script's stdout is for its record (kaptain_record_start): no step writes there.
  exec 45>&-
  # The kubeconfig's unlinked file is reached through a process that holds it open: this
  # child, which outlives every step, rather than the parent, which a SIGKILL may end
  # while helmfile still runs (kaptain_kubeconfig).
  if [ "${KUBECONFIG:-}" = "/proc/$$/fd/47" ] && [ -n "${BASHPID:-}" ]; then
    export KUBECONFIG="/proc/$BASHPID/fd/47"
  fi
}

# The child keeps the parent informed: its variables die with it.
kaptain_body_note() {
  if [ -n "$KAPTAIN_IN_BODY" ]; then
    # >|: a hook may have set noclobber.
    printf '%s' "$KAPTAIN_STEP" >|"$KAPTAIN_TMP/step"
    printf '%s' "$KAPTAIN_FAILED_AT" >|"$KAPTAIN_TMP/failed-at"
  fi
}

# kaptain_body_wait PID: the parent waits for the steps and ends with their status;
# kaptain_cleanup does the rest. The holder's note in the lock file gets the steps' group,
# so that a phase waiting for a killed one can name what still runs.
kaptain_body_wait() {
  local status=0
  set +m
  KAPTAIN_BODY=$1
  printf 'group=%s\n' "$1" >>"$KAPTAIN_LOCK"
  wait "$1" || status=$?
  KAPTAIN_BODY_ENDED=1
  if [ "$status" -ne 0 ]; then
    exit "$status"
  fi
}

# The parent's side of the steps' end: when the script ends on a signal while they still
# run, pass it on (TERM: helmfile stops its helm calls) and wait for them, killing them on a
# second signal; then read where they stopped, and stop what the hooks left running.
kaptain_end_body() {
  if [ -z "$KAPTAIN_BODY_ENDED" ]; then
    kaptain_log "stopping the phase's steps (process group $KAPTAIN_BODY) and waiting for them; a second signal kills them"
    trap 'kill -KILL -- "-$KAPTAIN_BODY" 2>/dev/null || true' HUP INT TERM
    kill -TERM -- "-$KAPTAIN_BODY" 2>/dev/null || true
    # A signal interrupts `wait`: wait again until the child is gone.
    while kill -0 "$KAPTAIN_BODY" 2>/dev/null; do
      wait "$KAPTAIN_BODY" 2>/dev/null || true
    done
    KAPTAIN_BODY_ENDED=1
  fi
  # $(<file): read by bash itself, no process (every phase pays for each one).
  if [ -f "$KAPTAIN_TMP/step" ]; then
    KAPTAIN_STEP=$(<"$KAPTAIN_TMP/step")
    KAPTAIN_FAILED_AT=""
    if [ -f "$KAPTAIN_TMP/failed-at" ]; then
      KAPTAIN_FAILED_AT=$(<"$KAPTAIN_TMP/failed-at")
    fi
  fi
  kaptain_stop_group "$KAPTAIN_BODY"
}

# kaptain_stop_group GROUP: stop the processes left in the steps' process group, naming
# them: TERM, then KILL for those still there after 3 seconds.
kaptain_stop_group() {
  local group=$1 left tries=0
  # The usual case, and cheap: nothing is left in the group at all.
  kill -0 -- "-$group" 2>/dev/null || return 0
  left=$(kaptain_group_members "$group")
  if [ -z "$left" ]; then
    return 0
  fi
  kaptain_log "stopping what the hooks left running: $left"
  kill -TERM -- "-$group" 2>/dev/null || true
  while [ -n "$(kaptain_group_members "$group")" ]; do
    tries=$((tries + 1))
    if [ "$tries" -gt 15 ]; then
      kaptain_log "still running after TERM, killed: $(kaptain_group_members "$group")"
      kill -KILL -- "-$group" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
}

# kaptain_group_members GROUP: "PID (NAME), ..." of the live processes of a process group.
# Names only: a command line may hold a secret. From /proc where there is one (no ps in
# slim containers), else from ps. Zombies are left out: they hold nothing open.
kaptain_group_members() {
  local group=$1 stat rest pid comm state pgrp out=""
  if [ -r /proc/self/stat ]; then
    for stat in /proc/[0-9]*/stat; do
      { read -r rest <"$stat"; } 2>/dev/null || continue
      # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
      pid=${rest%% *}
      comm=${rest#*(}
      comm=${comm%)*}
      rest=${rest##*) }
      state=${rest%% *}
      rest=${rest#* }
      rest=${rest#* }
      pgrp=${rest%% *}
      if [ "$pgrp" = "$group" ] && [ "$state" != Z ]; then
        out="${out:+$out, }$pid ($comm)"
      fi
    done
    printf '%s' "$out"
  else
    ps -Ao pid=,pgid=,stat=,comm= 2>/dev/null |
      awk -v g="$group" '$2 == g && $3 !~ /^Z/ { printf "%s%s (%s)", sep, $1, $4; sep = ", " }'
  fi
}

# kaptain_after_hook STATUS: hooks are sourced into this shell (kaptain's contract: what
# they export reaches helmfile), so they can turn errexit off or job control on, move to
# another folder or set traps. Put them back, and stop when the hook's last command
# failed (with errexit still on, the steps have already stopped).
kaptain_after_hook() {
  set -eEo pipefail
  set +m
  trap kaptain_failed_at ERR
  # A hook's own EXIT trap ends with its hook. The cleanup is the parent's (kaptain_body).
  trap - EXIT
  cd -- "$KAPTAIN_NAMESPACE_DIRECTORY"
  if [ "$1" -ne 0 ]; then
    kaptain_error "the hooks file returned status $1 (its last command failed)"
    exit "$1"
  fi
}

# kaptain_require LABEL COMMAND: remember a missing tool; kaptain_preflight reports
# every missing one, one line each, before anything runs.
KAPTAIN_MISSING=0
kaptain_require() {
  if ! command -v -- "$2" >/dev/null 2>&1; then
    kaptain_error "$1 is required but '$2' was not found on PATH"
    KAPTAIN_MISSING=1
  fi
}

# The apply strategy diffs every release before it upgrades the changed ones: it needs the
# helm-diff plugin. Checked before anything runs, with the way out.
kaptain_require_helm_diff() {
  if command -v helm >/dev/null 2>&1 && ! helm plugin list 2>/dev/null | awk 'NR > 1 { print $1 }' | grep -qx diff; then
    kaptain_error "helm-diff is required by the 'apply' strategy, which upgrades only the releases that changed:" \
      "install it (helm plugin install https://github.com/databus23/helm-diff), or set helmfile.strategy" \
      "(or the phase's strategy) to 'sync' to upgrade every release, as kaptain does"
    KAPTAIN_MISSING=1
  fi
}

# kaptain_require_hide_notes HELMFILE SUBCOMMAND: logging other than `all` passes
# --hide-notes (helmfile 0.169 or later) to keep helm's release notes, which may show
# values, out of the log; an older helmfile would fail the deploy on the unknown flag.
kaptain_require_hide_notes() {
  local help
  command -v -- "$1" >/dev/null 2>&1 || return 0
  # Read whole, then searched: a `| grep -q` pipe could close on helmfile while it still
  # writes, and under pipefail its SIGPIPE would read as "no such flag".
  help=$("$1" "$2" --help 2>/dev/null) || true
  if [[ "$help" != *--hide-notes* ]]; then
    kaptain_error "helmfile '$1' has no --hide-notes (helmfile 0.169 or later), which logging '$KAPTAIN_OUTPUT'" \
      "passes to keep helm's release notes out of the log: upgrade helmfile, or set logging to 'all'"
    KAPTAIN_MISSING=1
  fi
}

# After `helmfile diff --detailed-exitcode`: status 2 means "changes found", not a failure.
kaptain_diff_status() {
  local status=$?
  if [ "$status" -ne 2 ]; then
    exit "$status"
  fi
}

# kaptain_kubeconfig_file: a file for the kubeconfig's content that no path on disk leads
# to. It is created empty, opened on file descriptor 47 (fixed and high: bash 3 can open it,
# hooks are unlikely to use it) and unlinked before the caller writes the content there.
# helmfile, helm, kubectl and the hooks open it as /proc/<this shell>/fd/47, which reopens
# the file from its start each time (not /dev/fd/47: helmfile does not pass the descriptor
# on to helm). When this shell ends in any way, a SIGKILL included, the kernel closes the
# descriptor and frees the content: no trap is needed. Without /proc the file keeps its
# name in the private temporary folder, which the trap removes.
kaptain_kubeconfig_file() {
  local file="$KAPTAIN_TMP/kubeconfig"
  (umask 077 && : >"$file")
  exec 47<>"$file"
  if [ -r "/proc/$$/fd/47" ]; then
    rm -f -- "$file"
    export KUBECONFIG="/proc/$$/fd/47"
  else
    export KUBECONFIG="$file"
  fi
}

# The kubeconfig comes from the Command (a Pulumi secret), never through the command
# string: KAPTAIN_KUBECONFIG is a path, or `-` when the content is on standard input (an
# environment variable is capped at 128 KiB). Content in the variable itself (a phase
# script run by hand) is taken too. Content goes to kaptain_kubeconfig_file.
kaptain_kubeconfig() {
  if [ -n "${KAPTAIN_KUBECONFIG:-}" ]; then
    case "$KAPTAIN_KUBECONFIG" in
      -)
        kaptain_kubeconfig_file
        cat >&47
        ;;
      *"
"*|apiVersion:*|"{"*)
        kaptain_kubeconfig_file
        printf '%s\n' "$KAPTAIN_KUBECONFIG" >&47
        ;;
      [~]/*)
        export KUBECONFIG="$HOME/${KAPTAIN_KUBECONFIG#??}"
        ;;
      *)
        export KUBECONFIG="$KAPTAIN_KUBECONFIG"
        ;;
    esac
    unset KAPTAIN_KUBECONFIG
  fi
  # kubectl's and the Kubernetes provider's default, so scripts and objects agree.
  if [ -z "${KUBECONFIG:-}" ] && [ -f "$HOME/.kube/config" ]; then
    export KUBECONFIG="$HOME/.kube/config"
  fi
  # Absolute, so a hook that changes directory still finds it.
  case "${KUBECONFIG:-}" in
    "" | /* | *:*) ;;
    *) export KUBECONFIG="$KAPTAIN_NAMESPACE_DIRECTORY/$KUBECONFIG" ;;
  esac
  if [ -z "${KUBECONFIG:-}" ]; then
    kaptain_error "no kubeconfig: pass \`kubeconfig\` to the Infrastructure, export KUBECONFIG, or create ~/.kube/config"
    KAPTAIN_MISSING=1
  fi
}

# kaptain_require_sources HELMFILE...: the namespace folder and the helmfile that helmfile
# will read (HELMFILE relative to the folder; with several, the ones helmfile looks for,
# any of which will do) are still there. A delete runs the scripts kept in the state: the
# folder or the helmfile may have been removed or renamed since, in the same change that
# turned the phase off.
KAPTAIN_SOURCES_GONE=""
kaptain_require_sources() {
  local file
  if [ ! -d "$KAPTAIN_NAMESPACE_DIRECTORY" ]; then
    KAPTAIN_SOURCES_GONE="the namespace folder $KAPTAIN_NAMESPACE_FOLDER"
  else
    for file in "$@"; do
      [ ! -e "$file" ] || return 0
    done
    KAPTAIN_SOURCES_GONE="the helmfile $(printf '%s or ' "$@" | sed 's/ or $//') (relative to $KAPTAIN_NAMESPACE_FOLDER)"
  fi
  kaptain_error "$KAPTAIN_SOURCES_GONE is gone from $KAPTAIN_WORKING_DIRECTORY"
  KAPTAIN_MISSING=1
}

# kaptain_stranded UNDO HELM_LIST...: after kaptain_require_sources in a delete. Without
# its sources the delete cannot run UNDO (`helmfile ... destroy`), and what the phase
# deployed stays in the cluster: name it (HELM_LIST is the helm command that lists
# releases, without its --namespace) and the two ways to remove it. The phase stays in
# the state.
kaptain_stranded() {
  local undo=$1
  shift
  [ -n "$KAPTAIN_SOURCES_GONE" ] || return 0
  kaptain_error "so \`$undo\` cannot run: the releases this phase deployed stay in namespace $KAPTAIN_NAMESPACE"
  kaptain_name_releases "$KAPTAIN_NAMESPACE" "(this phase's are those the selector above picks in the helmfile)" "$@"
  kaptain_error "to remove them, either restore $KAPTAIN_SOURCES_GONE (git checkout) and run pulumi up again," \
    "which runs this delete; or uninstall them yourself (helm uninstall --namespace $KAPTAIN_NAMESPACE RELEASE...)" \
    "and then remove this phase from the state (pulumi state delete URN; pulumi stack --show-urns lists them)"
}

# kaptain_name_releases NAMESPACE NOTE HELM_LIST...: one error line with the releases in
# NAMESPACE (helm's names, comma-separated) and NOTE; or, when helm is missing or the
# cluster does not answer, the command that lists them.
kaptain_name_releases() {
  local namespace=$1 note=$2 names
  shift 2
  if names=$(kaptain_bounded "$@" --namespace "$namespace" 2>/dev/null); then
    names=$(printf '%s' "$names" | paste -sd, - | sed 's/,/, /g')
    kaptain_error "releases in namespace $namespace now: ${names:-none}${note:+ $note}"
  else
    kaptain_error "could not list the releases in namespace $namespace: run \`$* --namespace $namespace\`"
  fi
}

# kaptain_bounded COMMAND...: COMMAND, stopped after 30 seconds where `timeout` exists (an
# unreachable cluster must not hold up the error it serves); fails when it is not found.
kaptain_bounded() {
  command -v -- "$1" >/dev/null 2>&1 || return 127
  if command -v timeout >/dev/null 2>&1; then
    timeout 30 "$@"
  else
    "$@"
  fi
}

# The first word of the namespace guard's stdout, which its next run receives back from
# the command provider (PULUMI_COMMAND_STDOUT, kept in KAPTAIN_PREVIOUS_STDOUT): a variable
# of that name met anywhere else (pulumi run by another Command) does not start so.
KAPTAIN_GUARD_MARK="kaptain-namespace-guard:"

# kaptain_namespace_guard HELM_LIST...: the check of an Infrastructure's namespace guard,
# which runs before anything else of it deploys. Its last run printed the namespace the
# phases deployed into; a phase moved to another namespace would deploy there and forget
# the old one, whose releases would stay, unmanaged (Pulumi sees an update, not a delete).
# So a change stops here, before anything is deployed, naming those releases and the way
# to move them. Otherwise the guard prints the namespace for its next run.
kaptain_namespace_guard() {
  local deployed=""
  case "$KAPTAIN_PREVIOUS_STDOUT" in
    "$KAPTAIN_GUARD_MARK "*) deployed=${KAPTAIN_PREVIOUS_STDOUT#"$KAPTAIN_GUARD_MARK "} ;;
  esac
  if [ -n "$deployed" ] && [ "$deployed" != "$KAPTAIN_NAMESPACE" ]; then
    kaptain_error "the phases deployed into namespace $deployed and would now deploy into $KAPTAIN_NAMESPACE," \
      "leaving the releases in $deployed deployed and no longer managed: stopped before anything is deployed"
    kaptain_name_releases "$deployed" "" "$@"
    kaptain_error "to move them, turn the phases off and pulumi up (their delete scripts, kept in the state," \
      "destroy the releases in $deployed), then turn them on again with namespace $KAPTAIN_NAMESPACE;" \
      "to keep $deployed as it is, set the namespace back to $deployed and deploy $KAPTAIN_NAMESPACE from another stack"
    exit 1
  fi
  printf '%s %s\n' "$KAPTAIN_GUARD_MARK" "$KAPTAIN_NAMESPACE"
}

kaptain_preflight() {
  KAPTAIN_STEP="preflight"
  # kaptain_lock's flock(2): util-linux flock, else perl (macOS has no flock command).
  if ! command -v flock >/dev/null 2>&1 && ! command -v perl >/dev/null 2>&1; then
    kaptain_error "locking the repository needs flock (util-linux) or perl, and neither was found on PATH"
    KAPTAIN_MISSING=1
  fi
  if [ "$KAPTAIN_MISSING" -ne 0 ]; then
    exit 1
  fi
}

# kaptain_lock: one phase run at a time per repository. Pulumi runs the phases of
# different Infrastructures in parallel, and they share what is in the repository:
# namespaces without a folder of their own share its root (both would write and remove
# provision-configs/.kaptain), and every namespace shares its charts, whose dependencies
# helm rebuilds in place (charts/<chart>/tmpcharts-*, charts/*.tgz).
# The lock is the kernel's: flock(2) on the working directory itself, through file
# descriptor 9, which every process of the phase inherits. The kernel releases it when the
# last of them ends, and only then: a phase killed with SIGKILL (the command provider's
# cancel) keeps it while its helmfile still deploys; and a lock never outlives its
# processes, so there is none to take over and no pid to trust. .kaptain-lock in the working
# directory only names the holder, for those who wait. The wait is bounded:
# PULUMI_KAPTAIN_LOCK_TIMEOUT seconds, 1800 by default.
kaptain_lock() {
  local dir=$KAPTAIN_WORKING_DIRECTORY timeout=${PULUMI_KAPTAIN_LOCK_TIMEOUT:-1800} start status=0 announced=""
  KAPTAIN_STEP="lock"
  case $timeout in
    "" | *[!0-9]*)
      kaptain_error "PULUMI_KAPTAIN_LOCK_TIMEOUT must be a whole number of seconds, got '$timeout'"
      exit 1
      ;;
  esac
  if ! { exec 9<"$dir"; } 2>/dev/null; then
    kaptain_error "cannot open the working directory $dir to lock it"
    exit 1
  fi
  kaptain_flock 0 || status=$?
  if [ "$status" -eq 75 ]; then
    start=$SECONDS
    while [ "$status" -eq 75 ] && [ $((SECONDS - start)) -lt "$timeout" ]; do
      status=0
      kaptain_flock 1 || status=$?
      # Said after a second: by then, a holder that had just taken the lock has named itself.
      if [ "$status" -eq 75 ] && [ -z "$announced" ]; then
        kaptain_log "waiting for the repository's lock (up to $timeout s), held by $(kaptain_lock_holder "$dir/.kaptain-lock")"
        announced=1
      fi
    done
    if [ "$status" -eq 75 ]; then
      kaptain_error "the repository's lock ($dir) is still held after $timeout s, by $(kaptain_lock_holder "$dir/.kaptain-lock")." \
        "The lock is the kernel's: removing .kaptain-lock does not release it. To wait longer, set" \
        "PULUMI_KAPTAIN_LOCK_TIMEOUT (seconds) in the Infrastructure's \`environment\`"
      exit 1
    fi
  fi
  if [ "$status" -ne 0 ]; then
    kaptain_error "cannot lock the working directory $dir (flock failed with status $status)"
    exit 1
  fi
  KAPTAIN_LOCK="$dir/.kaptain-lock"
  if [ -e "$KAPTAIN_LOCK" ] || [ -L "$KAPTAIN_LOCK" ]; then
    kaptain_log "taking the lock, last held by $(kaptain_lock_holder "$KAPTAIN_LOCK" short), which ended without cleaning up (killed?)"
  fi
  # A note left by a killed holder, or the link an earlier pulumi-kaptain locked with.
  rm -f -- "$KAPTAIN_LOCK"
  {
    printf 'pid=%s\nstarted=%s\n' "$$" "$(kaptain_start_time "$$")"
    printf 'action=%s\nnamespace=%s\n' "$KAPTAIN_ACTION" "$KAPTAIN_NAMESPACE"
    printf 'host=%s\nsince=%s\n' "$(uname -n)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  } >"$KAPTAIN_LOCK"
}

# kaptain_flock SECONDS: lock descriptor 9, waiting up to SECONDS (0: not at all). Status 0
# when locked, 75 when another process holds it. util-linux flock, or perl where there is
# none (macOS): both lock the open file, which outlives them in the shell's descriptor.
kaptain_flock() {
  if command -v flock >/dev/null 2>&1; then
    if [ "$1" -eq 0 ]; then
      flock -x -n -E 75 9
    else
      flock -x -w "$1" -E 75 9
    fi
  else
    perl -MFcntl=:flock -e '
      open(my $fd, "<&=", 9) or die "descriptor 9: $!\n";
      my $wait = shift;
      if ($wait > 0) {
        $SIG{ALRM} = sub { exit 75 };
        alarm $wait;
        flock($fd, LOCK_EX) and exit 0;
      } else {
        flock($fd, LOCK_EX | LOCK_NB) and exit 0;
        exit 75 if $!{EWOULDBLOCK};
      }
      die "flock: $!\n";' "$1"
  fi
}

# kaptain_start_time PID: when the process started, to tell it from a later one with the
# same pid. Empty when there is no such process.
kaptain_start_time() {
  local stat fields
  if { read -r stat <"/proc/$1/stat"; } 2>/dev/null; then
    # Field 22, the 20th after "(comm) ".
    read -r -a fields <<<"${stat##*) }"
    printf '%s' "${fields[19]}"
  elif [ ! -d /proc/self ]; then
    ps -o lstart= -p "$1" 2>/dev/null || true
  fi
}

# kaptain_lock_holder FILE [short]: who holds the lock, from the note its holder wrote, and
# (unless short) how it is released.
kaptain_lock_holder() {
  local file=$1 key value pid="" started="" action="" namespace="" host="" since="" group="" left
  if [ -L "$file" ]; then
    printf 'process %s (an earlier pulumi-kaptain)' "$(readlink -- "$file" 2>/dev/null || true)"
    return 0
  fi
  if [ -f "$file" ]; then
    while IFS='=' read -r key value; do
      case $key in
        pid) pid=$value ;;
        started) started=$value ;;
        action) action=$value ;;
        namespace) namespace=$value ;;
        host) host=$value ;;
        since) since=$value ;;
        group) group=$value ;;
      esac
    done <"$file"
  fi
  if [ -z "$pid" ]; then
    printf 'a process that has not named itself in %s (it is starting or ending)' "$file"
    return 0
  fi
  printf '%s of namespace %s (process %s on %s, since %s)' "$action" "$namespace" "$pid" "$host" "$since"
  if [ "${2:-}" = short ]; then
    return 0
  fi
  if [ "$host" != "$(uname -n)" ]; then
    printf ', on another machine or container: it is released when that phase ends there'
  elif [ -n "$started" ] && [ "$(kaptain_start_time "$pid")" = "$started" ]; then
    printf ': it is released when that phase ends (to stop it: kill -TERM %s)' "$pid"
  else
    left=$(kaptain_group_members "$group")
    printf ', whose script has ended (killed?) while what it started still runs and holds the lock: %s;' "${left:-unknown}"
    printf ' it is released when they end (to stop them: kill -TERM -- -%s)' "${group:-<group>}"
  fi
}

# Leftovers of an interrupted run must not leak into this one.
kaptain_clean_embed() {
  rm -rf -- "$KAPTAIN_EMBED_DIRECTORY"
}

kaptain_copy_rclone_conf() {
  if [ -f "$KAPTAIN_NAMESPACE_DIRECTORY/rclone.conf" ]; then
    kaptain_step "copy rclone.conf into provision-configs/.kaptain"
    mkdir -p -- "$KAPTAIN_EMBED_DIRECTORY"
    cp -- "$KAPTAIN_NAMESPACE_DIRECTORY/rclone.conf" "$KAPTAIN_EMBED_DIRECTORY/rclone.conf"
  fi
}

# ---------------------------------------------------------------------------
# Helpers for hooks.sh
# ---------------------------------------------------------------------------

# kaptain_usage GIVEN MIN MAX USAGE: a helper called with a wrong number of arguments, or
# an empty one, stops the hook with its usage line instead of acting on a guess.
kaptain_usage() {
  local given=$1 min=$2 max=$3 usage=$4
  if [ "$given" -lt "$min" ] || [ "$given" -gt "$max" ]; then
    printf 'kaptain: usage: %s (got %s argument%s)\n' "$usage" "$given" "$([ "$given" -eq 1 ] || echo s)" >&2
    return 2
  fi
}

kaptain_nonempty() {
  local usage=$1 arg
  shift
  for arg in "$@"; do
    if [ -z "$arg" ]; then
      printf 'kaptain: usage: %s (an argument is empty)\n' "$usage" >&2
      return 2
    fi
  done
}

# merge_config COMMON LOCAL DEST: DEST gets COMMON's files, then LOCAL's, so a file in
# LOCAL overrides the one at the same path in COMMON. values.yaml* files are left out
# (they are Helm values, not config); a source folder that does not exist is skipped.
merge_config() {
  kaptain_usage $# 3 3 "merge_config COMMON LOCAL DEST" && kaptain_nonempty "merge_config COMMON LOCAL DEST" "$@" || return
  kaptain_merge -R "$@"
}

# kaptain_merge CP_FLAG COMMON LOCAL DEST: merge_config's copy, with cp's -R (links kept as
# links) or -RL (links followed).
kaptain_merge() {
  local flag=$1 common=$2 local_dir=$3 dest=$4 src
  mkdir -p -- "$dest"
  for src in "$common" "$local_dir"; do
    if [ -d "$src" ]; then
      cp "${flag}f" -- "$src/." "$dest/"
    fi
  done
  find "$dest" -type f -name 'values.yaml*' -exec rm -f -- {} +
}

# kaptain_as_rclone_copies DIR: kaptain merges rclone_config's files with `rclone copy`, and
# its tarballs are the ones consumers know, so DIR is made to hold what rclone would have
# written: every file 0644, every folder 0755, no empty folder. (kaptain's rclone also skips
# a symlink, with a NOTICE, losing the file; rclone_config follows it instead.)
kaptain_as_rclone_copies() {
  find "$1" -mindepth 1 -depth -type d -empty -delete
  find "$1" -type f -exec chmod 0644 -- {} +
  find "$1" -type d -exec chmod 0755 -- {} +
}

embed_config() {
  kaptain_usage $# 1 1 "embed_config APP" && kaptain_nonempty "embed_config APP" "$@" || return
  printf 'kaptain: embedding %s config ...\n' "$1"
  merge_config "$KAPTAIN_WORKING_DIRECTORY/configs/$1" \
    "$KAPTAIN_NAMESPACE_DIRECTORY/configs/$1" \
    "$KAPTAIN_EMBED_DIRECTORY/$1"
}

embed_subconfig() {
  kaptain_usage $# 2 2 "embed_subconfig APP SUB" && kaptain_nonempty "embed_subconfig APP SUB" "$@" || return
  printf 'kaptain: embedding %s/%s config ...\n' "$1" "$2"
  merge_config "$KAPTAIN_WORKING_DIRECTORY/configs/$1/$2" \
    "$KAPTAIN_NAMESPACE_DIRECTORY/configs/$1/$2" \
    "$KAPTAIN_EMBED_DIRECTORY/$1.$2"
}

# kaptain_tar_reproducible DIR ARCHIVE: the same files give the same bytes, whenever
# and wherever they are packed (sorted entries, fixed mtime and owners, normalised
# modes, no atime/ctime in pax headers, no timestamp in the gzip header).
kaptain_tar_reproducible() {
  tar --sort=name --format=posix \
    --pax-option='exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime' \
    --mtime='2017-09-15 00:00:00Z' --owner=0 --group=0 --numeric-owner \
    --mode='u+rwX,go+rX,go-w' \
    -C "$1" -cf - . | gzip -n >"$2"
}

# rclone_config APP [RCLONE_CONF]: pack APP's merged config into APP-config.tar.gz and
# copy it to the remote kaptain:<namespace>/ with the given rclone config (default: the
# namespace directory's rclone.conf). With KAPTAIN_DRY_RUN set, it packs but copies nothing.
rclone_config() {
  kaptain_usage $# 1 2 "rclone_config APP [RCLONE_CONF]" && kaptain_nonempty "rclone_config APP [RCLONE_CONF]" "$@" || return
  local app=$1 conf=${2:-$KAPTAIN_NAMESPACE_DIRECTORY/rclone.conf}
  local work="$KAPTAIN_TMP/rclone_config.$app"
  printf 'kaptain: packing %s config for rclone ...\n' "$app"
  rm -rf -- "$work"
  kaptain_merge -RL "$KAPTAIN_WORKING_DIRECTORY/configs/$app" \
    "$KAPTAIN_NAMESPACE_DIRECTORY/configs/$app" \
    "$work/files"
  kaptain_as_rclone_copies "$work/files"
  kaptain_tar_reproducible "$work/files" "$work/$app-config.tar.gz"
  # A diff (KAPTAIN_DRY_RUN=1) packs, so the hook behaves as in a deploy, but uploads nothing.
  if [ -n "${KAPTAIN_DRY_RUN:-}" ]; then
    printf 'kaptain: dry run: not copying %s-config.tar.gz to kaptain:%s/\n' "$app" "$KAPTAIN_NAMESPACE"
    return 0
  fi
  rclone --config "$conf" copyto "$work/$app-config.tar.gz" \
    "kaptain:$KAPTAIN_NAMESPACE/$app-config.tar.gz"
}

# split_multi_yml FILE DIR: split `helm template` output (documents that start with
# `---` then `# Source: <path>`) into one file per source path under DIR. Documents of
# the same source go to the same file, separated by `---`.
split_multi_yml() {
  kaptain_usage $# 2 2 "split_multi_yml FILE DIR" && kaptain_nonempty "split_multi_yml FILE DIR" "$@" || return
  local file=$1 dir=$2 path
  if [ ! -f "$file" ]; then
    printf 'split_multi_yml: no such file: %s\n' "$file" >&2
    return 1
  fi
  # First pass: check every source path and create its folder (awk cannot mkdir).
  while IFS= read -r path; do
    case "/$path/" in
      //* | */../*)
        printf 'split_multi_yml: unsafe source path %s in %s\n' "'$path'" "$file" >&2
        return 1
        ;;
    esac
    mkdir -p -- "$dir/$(dirname -- "$path")"
  done < <(awk 'prev ~ /^---[ \t]*$/ && /^# Source: / { print substr($0, 11) } { prev = $0 }' "$file")
  # Second pass: write each document to its source's file.
  awk -v dir="$dir" '
    /^---[ \t]*$/ { if (held) emit(sep); sep = $0; held = 1; next }
    held && /^# Source: / {
      out = dir "/" substr($0, 11)
      if (out in seen) print "---" > out
      seen[out] = 1; held = 0; next
    }
    held { emit(sep); held = 0 }
    { emit($0) }
    function emit(line) { if (out != "") print line > out }
  ' "$file"
}
